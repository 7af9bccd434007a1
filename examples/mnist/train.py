"""Train a small handwritten-digit classifier on the CPU and save it as model.pth.

The data is scikit-learn's bundled digits set (1,797 8x8 images, an offline MNIST-like task), so nothing
is downloaded. The model is a one-hidden-layer network in plain numpy; model.pth holds its weights in
numpy's .npz format (the name mirrors the lab report's PyTorch example; predict.py reads it).
"""

import time

import numpy as np
from sklearn.datasets import load_digits

EPOCHS = 40
BATCH = 32
LEARNING_RATE = 0.1
HIDDEN = 64


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def forward(params, x):
    hidden = np.maximum(0, x @ params["w1"] + params["b1"])
    return hidden, softmax(hidden @ params["w2"] + params["b2"])


def accuracy(params, x, y):
    return float((forward(params, x)[1].argmax(axis=1) == y).mean())


def main():
    rng = np.random.default_rng(0)
    digits = load_digits()
    x = digits.data / 16.0  # pixels are 0..16
    y = digits.target
    order = rng.permutation(len(x))
    train, test = order[:1500], order[1500:]
    params = {
        "w1": rng.normal(0, 0.1, (64, HIDDEN)), "b1": np.zeros(HIDDEN),
        "w2": rng.normal(0, 0.1, (HIDDEN, 10)), "b2": np.zeros(10),
    }
    print(f"Using device: cpu (numpy); {len(train)} training and {len(test)} test images", flush=True)
    started = time.time()
    for epoch in range(1, EPOCHS + 1):
        rng.shuffle(train)
        loss = 0.0
        for start in range(0, len(train), BATCH):
            batch = train[start:start + BATCH]
            xb, yb = x[batch], y[batch]
            hidden, probs = forward(params, xb)
            loss -= np.log(probs[np.arange(len(yb)), yb] + 1e-12).sum()
            grad = probs
            grad[np.arange(len(yb)), yb] -= 1
            grad /= len(yb)
            grad_hidden = (grad @ params["w2"].T) * (hidden > 0)
            params["w2"] -= LEARNING_RATE * hidden.T @ grad
            params["b2"] -= LEARNING_RATE * grad.sum(axis=0)
            params["w1"] -= LEARNING_RATE * xb.T @ grad_hidden
            params["b1"] -= LEARNING_RATE * grad_hidden.sum(axis=0)
        if epoch % 5 == 0 or epoch == 1:
            print(f"epoch {epoch:3d}  loss {loss / len(train):.4f}  test accuracy {accuracy(params, x[test], y[test]):.3f}",
                  flush=True)
    with open("model.pth", "wb") as f:
        np.savez(f, **params)
    print(f"Training complete in {time.time() - started:.1f} s; test accuracy "
          f"{accuracy(params, x[test], y[test]):.3f}; model saved to model.pth", flush=True)


if __name__ == "__main__":
    main()
