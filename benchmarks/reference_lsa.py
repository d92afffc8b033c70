"""The reference for `papercli topics FILE.jsonl --topics K --json`, as a whole process: a plain
script that reads the same JSON-lines file, runs scikit-learn's documented LSA + k-means
("Clustering text documents using k-means": TfidfVectorizer(max_df=0.5, min_df=2,
stop_words="english") -> TruncatedSVD(100) -> Normalizer -> KMeans(k-means++, max_iter=100,
n_init=1)) and prints each paper's cluster as a JSON line.

    python benchmarks/reference_lsa.py FILE.jsonl K > assignments.jsonl
"""

from __future__ import annotations

import json
import sys


def main(path: str, k: int) -> None:
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    ids, texts = [], []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            ids.append(record["id"])
            texts.append(f"{record['title']} {record.get('abstract') or record.get('summary')}")
    vectors = TfidfVectorizer(max_df=0.5, min_df=2, stop_words="english").fit_transform(texts)
    del texts
    lsa = make_pipeline(TruncatedSVD(n_components=100, random_state=0), Normalizer(copy=False))
    points = lsa.fit_transform(vectors)
    del vectors
    labels = KMeans(n_clusters=k, max_iter=100, n_init=1, random_state=0).fit_predict(points)
    out = sys.stdout
    for paper_id, label in zip(ids, labels.tolist(), strict=True):
        out.write(json.dumps({"id": paper_id, "topic": label}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
