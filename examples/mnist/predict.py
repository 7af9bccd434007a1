"""Classify the images in test_images/ (or the files given) with the model.pth that train.py saved.

Each image is a text file of 8 rows of 8 pixel values from 0 to 16, like scikit-learn's digits.
Prints one line per image: "<file>: prediction: <digit>".
"""

import glob
import sys

import numpy as np


def predict(params, pixels):
    hidden = np.maximum(0, pixels @ params["w1"] + params["b1"])
    return int((hidden @ params["w2"] + params["b2"]).argmax())


def main(paths):
    with open("model.pth", "rb") as f:
        params = dict(np.load(f))
    for path in paths or sorted(glob.glob("test_images/*.txt")):
        pixels = np.loadtxt(path).reshape(64) / 16.0
        print(f"{path}: prediction: {predict(params, pixels)}")


if __name__ == "__main__":
    main(sys.argv[1:])
