"""bnn: Bayesian neural networks on JAX, Flax and NumPyro.

Take any ``flax.linen`` module, add a prior and a likelihood, and fit it by MLE, MAP, prior
sampling, SVI or NUTS with one call, :func:`bnn.fit`. ArviZ and matplotlib load only when used.
"""

from bnn import datasets as datasets
from bnn import evidence as evidence
from bnn import likelihoods as likelihoods
from bnn import metrics as metrics
from bnn import models as models
from bnn import priors as priors
from bnn.evidence import tune_evidence as tune_evidence
from bnn.inference import METHODS as METHODS
from bnn.inference import fit as fit
from bnn.inference.optimize import NonFiniteLossError as NonFiniteLossError
from bnn.metrics import compare as compare
from bnn.prediction import Prediction as Prediction
from bnn.results import FitResult as FitResult

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "FitResult",
    "NonFiniteLossError",
    "Prediction",
    "compare",
    "datasets",
    "evidence",
    "fit",
    "likelihoods",
    "metrics",
    "models",
    "priors",
    "tune_evidence",
]
