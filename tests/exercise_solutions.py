"""Solutions to notebooks/exercises.ipynb, kept out of the notebook: cell id -> filled-in source.

tests/test_exercises.py puts each into its cell (the check call at the end stays the
notebook's own) and runs the notebook: every check must then pass.
"""

SOLUTIONS = {
    # The activations' solutions are the library's own Functions, in torchann/functional.py.
    "ex1": "from torchann.functional import Sigmoid as MySigmoid",
    "ex2": "from torchann.functional import Tanh as MyTanh",
    "ex3": '''
def forward(net, x):
    """Step I: returns (a_1, a_2), the hidden and the output activations."""
    a_1 = torch.sigmoid(x @ net.hidden.weight + net.hidden.bias)
    a_2 = torch.sigmoid(a_1 @ net.output.weight + net.output.bias)
    return a_1, a_2


def output_delta(net, x, t):
    a_1, a_2 = forward(net, x)
    return a_2 * (1 - a_2) * (a_2 - t) / len(x)
''',
    "ex4": '''
def deltas(net, x, t):
    a_1, a_2 = forward(net, x)
    delta_2 = output_delta(net, x, t)
    delta_1 = a_1 * (1 - a_1) * (delta_2 @ net.output.weight.T)
    return [delta_1, delta_2]
''',
    "ex5": '''
def gradients(net, x, t):
    a_1, a_2 = forward(net, x)
    delta_1, delta_2 = deltas(net, x, t)
    return [x.T @ delta_1, delta_1.sum(dim=0, keepdim=True),
            a_1.T @ delta_2, delta_2.sum(dim=0, keepdim=True)]
''',
    "ex6": '''
def sgd_step(net, x, t, lr):
    grads = gradients(net, x, t)
    with torch.no_grad():
        for p, grad in zip(net.parameters(), grads):
            p -= lr * grad


def lr_at_epoch(epoch, lr0, anneal):
    return lr0 * anneal ** epoch
''',
    "ex7": '''
def online_epoch(net, x, t, lr):
    for i in range(len(x)):
        sgd_step(net, x[i:i + 1], t[i:i + 1], lr)
''',
    "ex8": "from torchann.functional import Softplus as MySoftplus",
}
