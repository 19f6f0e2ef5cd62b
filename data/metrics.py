"""The metrics GLUE tasks are judged by, keyed by the names in `TaskSpec.metrics`."""

from __future__ import annotations

import numpy as np
from scipy import stats


def accuracy(predictions, labels) -> float:
    return float(np.mean(np.asarray(predictions) == np.asarray(labels)))


def f1(predictions, labels) -> float:
    """F1 of the positive class (label 1), as GLUE reports for MRPC and QQP."""
    p, y = np.asarray(predictions) == 1, np.asarray(labels) == 1
    tp = np.sum(p & y)
    return float(2 * tp / (np.sum(p) + np.sum(y))) if (np.sum(p) + np.sum(y)) else 0.0


def mcc(predictions, labels) -> float:
    """Matthews correlation for binary labels (CoLA)."""
    p, y = np.asarray(predictions) == 1, np.asarray(labels) == 1
    tp, tn = np.sum(p & y), np.sum(~p & ~y)
    fp, fn = np.sum(p & ~y), np.sum(~p & y)
    denominator = np.sqrt(float((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    return float((tp * tn - fp * fn) / denominator) if denominator else 0.0


def pearson(predictions, labels) -> float:
    return float(stats.pearsonr(np.asarray(predictions, float), np.asarray(labels, float))[0])


def spearman(predictions, labels) -> float:
    return float(stats.spearmanr(np.asarray(predictions, float), np.asarray(labels, float))[0])


METRICS = {"accuracy": accuracy, "f1": f1, "mcc": mcc, "pearson": pearson, "spearman": spearman}


def compute_metrics(names, predictions, labels) -> dict[str, float]:
    """Each named metric of predictions against gold labels."""
    return {name: METRICS[name](predictions, labels) for name in names}
