"""papercli: fetch research-paper listings, group them into topics, deliver a digest."""

__version__ = "0.1.0"
