"""What papercli does with the papers it has stored over time: search, export and feeds."""
