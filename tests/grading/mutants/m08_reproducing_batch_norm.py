"""Wrong answers for exercise 08_reproducing_batch_norm: one per mistake its checks name.

Each starts from the solution's own cell (read from the solution notebook, so the two cannot drift apart)
and changes the one thing the mistake is about.
"""
from tests.grading.mutants import Mutant
from tests.grading.notebook_code import nbgrader_meta, solution_notebook

A = "08_reproducing_batch_norm"
SOURCE = {nbgrader_meta(cell).get("grade_id"): cell.source for cell in solution_notebook(A).cells}


def edit(grade_id: str, *changes: tuple[str, str]) -> dict[str, str]:
    """The solution cell ``grade_id`` with each (old, new) replaced; old must occur exactly once."""
    source = SOURCE[grade_id]
    for old, new in changes:
        if source.count(old) != 1:
            raise ValueError(f"mutant edit {old!r} matches {source.count(old)} times in {grade_id}")
        source = source.replace(old, new)
    return {grade_id: source}


MUTANTS = [
    # model.train() once before the loop: the first measurement's model.eval() is never undone
    Mutant("cap_bn_eval_mode_in_training", A,
           edit("run_experiment", ("        for step in range(1, steps + 1):\n            model.train()\n",
                                   "        model.train()\n        for step in range(1, steps + 1):\n")),
           ("test_run_experiment", "test_run_experiment_hidden"), "left in eval mode during training"),
    Mutant("cap_percentiles_wrong_axis", A,
           edit("measurements", ("/ 100, dim=0)", "/ 100, dim=1)")),
           ("test_sigmoid_input_percentiles", "test_sigmoid_input_percentiles_hidden"), "over the wrong axis"),
    # a forward hook that keeps the sigmoid's output
    Mutant("cap_read_after_sigmoid", A,
           edit("measurements", ("register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))",
                                 "register_forward_hook(lambda module, args, out: seen.append(out.detach().clone()))")),
           ("test_sigmoid_input_percentiles", "test_sigmoid_input_percentiles_hidden"), "read after the sigmoid"),
    # the accuracy of the step's own logits on its training batch
    Mutant("cap_accuracy_on_training_batch", A,
           edit("run_experiment",
                ("            loss = torch.nn.functional.cross_entropy(model(X_train[batch]), y_train[batch])\n",
                 "            logits = model(X_train[batch])\n"
                 "            loss = torch.nn.functional.cross_entropy(logits, y_train[batch])\n"),
                ("accuracy.append((model(X_test).argmax(dim=1) == y_test).double().mean())",
                 "accuracy.append((logits.argmax(dim=1) == y_train[batch]).double().mean())")),
           ("test_run_experiment", "test_run_experiment_hidden"), "measured on the training batch"),
    # exercise 4's mistake carried over: the running statistics are updated in eval mode too, so measuring on the
    # test set feeds it into them
    Mutant("cap_test_data_in_running_statistics", A,
           edit("BatchNorm1d", ("        if self.training:\n            n = x.numel()", "        if True:\n            n = x.numel()"),
                ("        else:\n            mean, var = self.running_mean, self.running_var\n",
                 "        if not self.training:\n            mean, var = self.running_mean, self.running_var\n")),
           ("test_run_experiment", "test_run_experiment_hidden"), "test data entered the running statistics"),
]
