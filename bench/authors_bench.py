#!/usr/bin/env python3
"""Times the authors' GeneticNAS supernet (haihabi/GeneticNAS, not part of gnas) the way `gnas bench`
times gnas's: training steps with a new random genome every step, on random CIFAR-shaped images,
then evaluation passes; prints one JSON line with images/s.

It imports the authors' code from a checkout you give (`--repo DIR`); nothing of it is copied here.
The training step is their main.py's: zero_grad, forward, the accuracy read with .item(), the loss,
backward, SGD with Nesterov momentum, and the running loss read with .item(). Evaluation is their
cnn_utils.evaluate_single's inner loop (no_grad, eval mode, one .item() per batch).

Usage: python3 bench/authors_bench.py --repo DIR [--channels 20] [--cells 2] [--batch 128]
       [--eval-batch 250] [--steps 20] [--warmup 3] [--threads 1] [--device cpu]
"""
import argparse
import json
import os
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repo", required=True, help="a checkout of the authors' GeneticNAS code")
    p.add_argument("--channels", type=int, default=20, help="C (their n_channels)")
    p.add_argument("--cells", type=int, default=2, help="N_cell (their n_blocks)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--eval-batch", type=int, default=250)
    p.add_argument("--steps", type=int, default=20, help="timed steps per measurement")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if not os.path.isfile(os.path.join(a.repo, "models", "model_cnn.py")):
        sys.exit(f"authors_bench: {a.repo} is not a GeneticNAS checkout (no models/model_cnn.py)")
    sys.path.insert(0, a.repo)
    import torch
    import torch.nn as nn
    import gnas
    from models import model_cnn
    from modules.drop_module import DropModuleControl

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    # Their search configuration: 5 nodes per cell, normal + reduction + input cells (n_block_type 3),
    # drop-path off during the search, dropout 0.2, no auxiliary head.
    dp = DropModuleControl(0.9)
    ss = gnas.get_gnas_cnn_search_space(5, dp, gnas.SearchSpaceType(2))
    net = model_cnn.Net(a.cells, a.channels, 10, 0.2, ss, aux=False).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    pool = max(a.batch, a.eval_batch) * 2
    images = torch.randn(pool, 3, 32, 32, device=dev)
    labels = torch.randint(0, 10, (pool,), device=dev)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def train(n):
        net.train()
        running, correct = 0.0, 0
        for _ in range(n):
            net.set_individual(ss.generate_individual())
            idx = torch.randint(0, pool, (a.batch,), device=dev)
            x, y = images[idx], labels[idx]
            opt.zero_grad()
            out = net(x)
            correct += (out[0].argmax(1) == y).sum().item()
            loss = loss_fn(out[0], y)
            loss.backward()
            opt.step()
            running += loss.item()
        sync()

    def evaluate(n):
        net.eval()
        with torch.no_grad():
            for _ in range(n):
                net.set_individual(ss.generate_individual())
                out = net(images[: a.eval_batch])
                (out[0].argmax(1) == labels[: a.eval_batch]).sum().item()
        sync()

    def timed(f):
        f(a.warmup)
        t0 = time.perf_counter()
        f(a.steps)
        return time.perf_counter() - t0

    train_ips = a.steps * a.batch / timed(train)
    eval_ips = a.steps * a.eval_batch / timed(evaluate)
    params = sum(p.numel() for p in net.parameters())
    print(json.dumps({"bench": "authors", "torch": torch.__version__, "device": str(dev), "threads": a.threads,
                      "channels": a.channels, "cells": a.cells, "global_batch": a.batch, "eval_batch": a.eval_batch,
                      "steps": a.steps, "parameters": params, "train_img_per_s": train_ips,
                      "eval_img_per_s": eval_ips}))


if __name__ == "__main__":
    main()
