"""What a fitted network predicts at new inputs: draws of f and y, and their summaries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Prediction"]


def _mixture_quantile(mu, sigma, q, iters=60):
    """Quantile ``q`` of the equal-weight mixture of Normal(mu_s, sigma_s) over axis 0."""
    from scipy.special import ndtr

    lo = np.min(mu - 12 * sigma, axis=0)
    hi = np.max(mu + 12 * sigma, axis=0)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        cdf = ndtr((mid[None] - mu) / sigma).mean(axis=0)
        below = cdf < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def _softmax(z, axis=-1):
    from scipy.special import softmax

    return softmax(np.asarray(z, np.float64), axis=axis)


def _entropy(p, axis=-1):
    from scipy.special import entr  # -p log p, 0 at p = 0

    return np.sum(entr(np.asarray(p, np.float64)), axis=axis)


@dataclass(frozen=True)
class Prediction:
    """Predictive draws at ``n`` inputs and their summaries.

    Regression: ``mean`` and ``std`` of the predictive ``p(y* | x*)``, split into
    ``epistemic_std`` (spread of f over draws) and ``aleatoric_std`` (the noise,
    ``sqrt(E[sigma^2])``), with ``std**2 = epistemic_std**2 + aleatoric_std**2``;
    ``interval(prob)`` is the central interval of the exact mixture of Gaussians.

    Classification: ``probs`` (class-1 probability for Bernoulli, ``(n, K)`` for Categorical),
    ``entropy`` of the predictive (total uncertainty), split into ``aleatoric_entropy`` and
    ``mutual_information`` (epistemic).

    Attributes:
        task: ``"regression"`` or ``"classification"``.
        f_samples: ``(num_draws, n)`` latent function draws (logits for classification;
            ``(num_draws, n, K)`` for Categorical), chain-major.
        y_samples: ``(num_draws, n)`` draws of observations.
        noise_std: ``(num_draws, n)`` noise std per draw (regression) or None.
    """

    task: str
    f_samples: np.ndarray
    y_samples: np.ndarray
    noise_std: np.ndarray | None = None
    kind: str = "gaussian"

    def _regression(self, name):
        if self.task != "regression":
            raise AttributeError(
                f"{name} is defined for regression; for classification use probs, entropy "
                "and mutual_information"
            )

    @property
    def num_draws(self) -> int:
        return self.f_samples.shape[0]

    @property
    def mean(self) -> np.ndarray:
        """Predictive mean: E[f] for regression, the class probabilities for classification."""
        if self.task == "classification":
            return self.probs
        return self.f_samples.mean(axis=0)

    @property
    def epistemic_std(self) -> np.ndarray:
        self._regression("epistemic_std")
        return self.f_samples.std(axis=0)

    @property
    def aleatoric_std(self) -> np.ndarray:
        self._regression("aleatoric_std")
        return np.sqrt(np.mean(self.noise_std**2, axis=0))

    @property
    def std(self) -> np.ndarray:
        self._regression("std")
        return np.sqrt(self.epistemic_std**2 + self.aleatoric_std**2)

    def interval(self, prob: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Central predictive interval of y holding ``prob`` of the mass: (lower, upper)."""
        self._regression("interval")
        if not 0 < prob < 1:
            raise ValueError(f"prob must lie in (0, 1), got {prob}")
        tail = 0.5 * (1 - prob)
        mu, sd = self.f_samples, self.noise_std
        return _mixture_quantile(mu, sd, tail), _mixture_quantile(mu, sd, 1 - tail)

    def f_interval(self, prob: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Central interval of the latent function f over draws (epistemic only)."""
        self._regression("f_interval")
        tail = 0.5 * (1 - prob)
        return tuple(np.quantile(self.f_samples, [tail, 1 - tail], axis=0))

    def _draw_probs(self):
        if self.kind == "bernoulli":
            from scipy.special import expit

            p1 = expit(np.asarray(self.f_samples, np.float64))
            return np.stack([1 - p1, p1], axis=-1)
        return _softmax(self.f_samples)

    @property
    def probs(self) -> np.ndarray:
        if self.task != "classification":
            raise AttributeError("probs is defined for classification; use mean for regression")
        p = self._draw_probs().mean(axis=0)
        return p[..., 1] if self.kind == "bernoulli" else p

    @property
    def label(self) -> np.ndarray:
        p = self.probs
        return (p > 0.5).astype(int) if self.kind == "bernoulli" else p.argmax(-1)

    @property
    def entropy(self) -> np.ndarray:
        """Entropy of the predictive distribution (nats): total uncertainty."""
        return _entropy(self._draw_probs().mean(axis=0))

    @property
    def aleatoric_entropy(self) -> np.ndarray:
        """Expected entropy over draws: the uncertainty left if the weights were known."""
        return _entropy(self._draw_probs()).mean(axis=0)

    @property
    def mutual_information(self) -> np.ndarray:
        """Epistemic uncertainty: entropy minus expected entropy (0 for a point estimate)."""
        return self.entropy - self.aleatoric_entropy
