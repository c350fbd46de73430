r"""Is MSE training really maximum likelihood, and L2-penalised training really MAP?

The notebook states it; this script checks it with numbers. The same MLP, from the same
initial weights, is trained twice with the same optimiser (Adam):

* by hand with optax on the notebook's costs: the MSE ``mean(l2_loss(f(x), y))`` and the
  L2-penalised ``sum (y - f(x))^2 + lambda sum theta^2``;
* by ``bnn.fit`` with ``method="mle"`` and ``method="map"``, Gaussian likelihood of noise
  sigma and, for MAP, the prior ``bnn.priors.from_l2(lambda, sigma)``, which is
  Normal(0, sigma / sqrt(lambda)).

bnn's per-datum losses are those costs times a positive constant, plus a constant:

    MLE:  -log p(y | theta) / n  =  mean(l2_loss) / sigma^2                          + c
    MAP:  -log p(y, theta) / n   =  [sum r^2 + lambda sum theta^2] / (2 sigma^2 n)   + c'

so the minimisers are the same. Adam's step does not change when the gradient is multiplied
by a constant, provided its epsilon is multiplied by it too; with that, the two runs follow
the same trajectory, and the script prints how closely (float32 rounding, ~1e-6), next to how
far apart the MLE and the MAP are. Over many thousands of steps Adam's loss spikes amplify the
rounding and the twin runs drift apart by ~1e-2; a cosine-decaying step size keeps them
together for the default 1000 steps.
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np
from _cli import hidden_arg, save_figure

ADAM_EPS = 1e-8  # optax's default


def adam(learning_rate: float, num_steps: int, eps_scale: float = 1.0):
    """Adam with a cosine-decaying step size (it settles instead of spiking at the end)."""
    import optax

    schedule = optax.cosine_decay_schedule(learning_rate, num_steps)
    return optax.adam(schedule, eps=ADAM_EPS * eps_scale)


def train_optax(module, variables, loss_fn, learning_rate: float, num_steps: int):
    """The hand-written baseline: Adam on ``loss_fn(variables)``, one jitted ``lax.scan``."""
    import jax
    import optax

    optimizer = adam(learning_rate, num_steps)

    @jax.jit
    def run(params):
        def step(carry, _):
            params, state = carry
            value, grads = jax.value_and_grad(loss_fn)(params)
            updates, state = optimizer.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), value

        (params, _), losses = jax.lax.scan(
            step, (params, optimizer.init(params)), None, length=num_steps
        )
        return params, losses

    params, losses = run(variables)
    return params, np.asarray(losses)


def flat(variables) -> np.ndarray:
    from jax.flatten_util import ravel_pytree

    return np.asarray(ravel_pytree(variables["params"])[0])


def main(args):
    import matplotlib

    matplotlib.use("Agg")
    import flax
    import jax
    import jax.numpy as jnp
    import matplotlib.pyplot as plt
    import optax

    import bnn
    import bnn.plots

    os.makedirs(args.out, exist_ok=True)
    data = bnn.datasets.seed_regression(key=args.seed)
    x, y = jnp.asarray(data.x), jnp.asarray(data.y)
    n, sigma, lam = len(data.y), args.noise, args.weight_decay
    module = bnn.models.MLP((*args.hidden, 1), activation=args.activation)
    init = module.init(jax.random.PRNGKey(args.seed), jnp.ones((1, 1)))
    init_sites = {
        f"net/{path}": value
        for path, value in flax.traverse_util.flatten_dict(init["params"], sep=".").items()
    }

    def mse(p):  # the notebook's compute_loss
        return jnp.mean(optax.l2_loss(module.apply(p, x)[:, 0], y))

    def l2_cost(p):  # the notebook's regularised cost
        penalty = sum(jnp.sum(t**2) for t in jax.tree.leaves(p))
        return jnp.sum((module.apply(p, x)[:, 0] - y) ** 2) + lam * penalty

    hand = {
        "mle": train_optax(module, init, mse, args.learning_rate, args.num_steps),
        "map": train_optax(module, init, l2_cost, args.learning_rate, args.num_steps),
    }
    prior = bnn.priors.from_l2(lam, sigma)
    # bnn's gradient is the hand-written one times a constant c; Adam's step is unchanged by c
    # when its epsilon is multiplied by c too (with the default epsilon they agree to ~1e-2)
    scale = {"mle": 1 / sigma**2, "map": 1 / (2 * sigma**2 * n)}
    fits = {
        m: bnn.fit(module, data.x, data.y, method=m, prior=prior,
                   likelihood=bnn.likelihoods.Gaussian(sigma), key=args.seed,
                   num_steps=args.num_steps,
                   optimizer=adam(args.learning_rate, args.num_steps, eps_scale=scale[m]),
                   init_params=init_sites)
        for m in ("mle", "map")
    }

    # bnn's loss trace as an affine map of the hand-written one (the same parameters each step)
    k = sum(int(np.prod(s)) for _, s in fits["map"].model.param_shapes)
    c_lik = math.log(sigma) + 0.5 * math.log(2 * math.pi)
    c_prior = k / n * (math.log(prior.scale) + 0.5 * math.log(2 * math.pi))
    mapped = {
        "mle": hand["mle"][1] / sigma**2 + c_lik,
        "map": hand["map"][1] / (2 * sigma**2 * n) + c_lik + c_prior,
    }
    theta = {m: (flat(hand[m][0]), flat(fits[m].net_params)) for m in hand}
    print(f"MLP {(*args.hidden, 1)}, {k} parameters; sigma = {sigma:g}, lambda = {lam:g} -> "
          f"prior Normal(0, {prior.scale:g}); Adam lr {args.learning_rate:g}, "
          f"{args.num_steps} steps from the same initial weights\n")
    print(f"{'':26s}{'max |Δθ|':>10s}{'max |Δf(x)|':>13s}{'max |Δloss|':>13s}")
    preds = {}
    for m, label in (("mle", "optax MSE  vs bnn MLE"), ("map", "optax L2   vs bnn MAP")):
        f_hand = np.asarray(module.apply(hand[m][0], data.x_test)[:, 0])
        f_bnn = fits[m].predict(data.x_test).mean
        preds[m] = (f_hand, f_bnn)
        d_theta = np.max(np.abs(theta[m][0] - theta[m][1]))
        d_loss = np.max(np.abs(mapped[m] - fits[m].losses))
        print(f"{label:26s}{d_theta:10.2e}{np.max(np.abs(f_hand - f_bnn)):13.2e}{d_loss:13.2e}")
    gap = np.max(np.abs(theta["mle"][1] - theta["map"][1]))
    print(f"{'for scale: bnn MLE vs MAP':26s}{gap:10.2e}"
          f"{np.max(np.abs(preds['mle'][1] - preds['map'][1])):13.2e}")

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    ax = axes[0]
    for m, marker in (("mle", "o"), ("map", "s")):
        ax.scatter(theta[m][0], theta[m][1], s=18, marker=marker, color=bnn.plots.color_for(m),
                   label=f"{m.upper()}: max |Δθ| = {np.max(np.abs(np.subtract(*theta[m]))):.1e}",
                   alpha=0.8)
    lim = np.max(np.abs(np.concatenate([*theta["mle"], *theta["map"]])))
    ax.plot([-lim, lim], [-lim, lim], color="0.4", lw=1, ls="--", label="identity")
    ax.set_xlabel("parameter trained with plain optax (MSE / L2 cost)")
    ax.set_ylabel("parameter from bnn.fit (MLE / MAP)")
    ax.set_title(f"All {k} parameters, hand-written vs bnn")
    ax.legend(fontsize=8)

    ax = axes[1]
    for m, name in (("mle", "MSE"), ("map", f"L2 (λ={lam:g})")):
        color = bnn.plots.color_for(m)
        ax.plot(data.x_test[:, 0], preds[m][0], color=color, lw=4, alpha=0.45,
                label=f"optax, {name}")
        ax.plot(data.x_test[:, 0], preds[m][1], color=color, lw=1.3, ls="--",
                label=f"bnn {m.upper()}")
    bnn.plots.true_function(ax, data.x_test, data.f_test, lw=1)
    bnn.plots.data_points(ax, data.x, data.y)
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-2, 2)
    bnn.plots.extrapolation(ax)
    ax.set_title("Predictions: each bnn line lies on its optax line")
    ax.legend(fontsize=7, loc="upper center", ncol=2)

    ax = axes[2]
    for m in ("mle", "map"):
        color = bnn.plots.color_for(m)
        ax.plot(np.arange(1, args.num_steps + 1), mapped[m], color=color, lw=4, alpha=0.45,
                label=f"optax {'MSE' if m == 'mle' else 'L2'} cost, rescaled")
        ax.plot(np.arange(1, args.num_steps + 1), fits[m].losses, color=color, lw=1.3, ls="--",
                label=f"bnn {m.upper()} loss")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("step")
    ax.set_ylabel("negative log density per point")
    ax.set_title("Loss traces: -log p / n = a · cost + c")
    ax.legend(fontsize=8)
    fig.suptitle("MSE training is maximum likelihood; L2-penalised training is MAP "
                 f"(noise σ = {sigma:g}, λ = {lam:g} ⇔ prior N(0, {prior.scale:g}²))")
    save_figure(fig, args.out, "mse_is_mle.png")
    return theta


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="figures", help="folder for the figure")
    p.add_argument("--hidden", type=hidden_arg, default=(10, 10), help="hidden widths")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--noise", type=float, default=0.1, help="Gaussian noise sigma of the model")
    p.add_argument("--weight-decay", "--lam", type=float, default=0.01,
                   help="lambda of the L2 penalty sum r^2 + lambda sum theta^2")
    p.add_argument("--num-steps", "--steps", type=int, default=1000,
                   help="Adam steps; past a few thousand, float32 rounding (1e-7) grows to "
                   "~1e-2 through Adam's loss spikes and the twin runs drift apart slightly")
    p.add_argument("--learning-rate", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
