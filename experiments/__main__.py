"""``python -m experiments``: list the experiments with one line each."""

from experiments import EXPERIMENTS


def main(argv=None) -> int:
    width = max(map(len, EXPERIMENTS))
    print("Experiments (run one with: python -m experiments.<name> --help):")
    for name, line in EXPERIMENTS.items():
        print(f"  {name:<{width}}  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
