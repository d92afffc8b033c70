"""Personal relevance, learned locally from what the reader tells papercli; one job per module:

signals   the store's signal tables: likes and dislikes, the library, followed authors,
          the cached model
names     author names compared through initials, accents, hyphens and "Last, First"
library   the reader's BibTeX, CSL-JSON or id-list files read as library entries, matched
          to stored papers by arXiv id, then by folded title
model     TF-IDF of folded text -> a seeded logistic regression, kept as a plain dict
ranking   the model retrained when the signals change, each paper's score and reasons
profile   what papercli has learned, for `papercli profile`
"""
