"""Probes only 02_training needs: an optimizer run on a fixed quadratic, and a training loop
whose model the probe builds (so every student starts from the same parameters) and whose
restored parameters it reads afterwards."""
import torch

from grader.course.probes import describe, probe
from grader.course.spec import Report


@probe(reports={"path": Report("the parameters after each step"),
                "is_optimizer": Report("a torch.optim.Optimizer", exact=True,
                                       hint="subclass torch.optim.Optimizer and call "
                                            "super().__init__(params, defaults)")})
def optimizer_run(module, name, inputs, device):
    a = torch.tensor(inputs["A"], dtype=torch.float64, device=device)
    b = torch.tensor(inputs["b"], dtype=torch.float64, device=device)
    w = torch.nn.Parameter(torch.tensor(inputs["start"], dtype=torch.float64, device=device))
    c = torch.nn.Parameter(torch.tensor([inputs["c0"]], dtype=torch.float64, device=device))
    optimizer = getattr(module, name)([w, c], lr=inputs["lr"], momentum=inputs["momentum"])
    rows = [torch.cat([w.detach(), c.detach()]).clone()]
    for _ in range(inputs["n_steps"]):
        optimizer.zero_grad()
        loss = 0.5 * w @ a @ w - b @ w + 0.5 * (c ** 2).sum()
        loss.backward()
        optimizer.step()
        rows.append(torch.cat([w.detach(), c.detach()]).clone())
    return {"path": describe(torch.stack(rows)),
            "is_optimizer": isinstance(optimizer, torch.optim.Optimizer)}


@probe(reports={"result": Report("the returned value"),
                "restored": Report("the model's parameters after the call")})
def early_stopping_run(module, name, inputs, device):
    def t(key):
        return torch.tensor(inputs[key], dtype=torch.float64, device=device)
    model = torch.nn.Linear(t("weight").shape[1], 1, dtype=torch.float64, device=device)
    with torch.no_grad():
        model.weight.copy_(t("weight"))
        model.bias.copy_(t("bias"))
    result = getattr(module, name)(model, t("x_train"), t("y_train"), t("x_val"), t("y_val"),
                                   inputs["lr"], inputs["max_epochs"], inputs["patience"])
    restored = torch.cat([model.weight.detach().flatten(), model.bias.detach()])
    return {"result": describe(result), "restored": describe(restored)}
