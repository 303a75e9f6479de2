"""GradBench's ba (ADBench bundle adjustment) in PyTorch, float64, as GradBench's pytorch tool does it.

The input is one camera, one point, one weight and one feature, replicated: n cameras, m points,
p observations, observation i seeing camera i mod n and point i mod m. Every observation is
computed (the replication is not exploited). objective gives the first observation's two
reprojection errors and its weight error with their counts; jacobian the sparse Jacobian in
ADBench's compressed-row form (rows: 3p+1 offsets; cols; vals), of which the eval keeps the
first 30 entries and the last of each list.
"""
import torch

N_CAM = 11


def rodrigues_rotate_point(rot, X):
    sqtheta = torch.sum(rot**2)
    if sqtheta != 0.0:
        theta = torch.sqrt(sqtheta)
        costheta = torch.cos(theta)
        sintheta = torch.sin(theta)
        w = rot / theta
        return X * costheta + torch.linalg.cross(w, X) * sintheta + w * (torch.dot(w, X) * (1.0 - costheta))
    return X + torch.linalg.cross(rot, X)


def radial_distort(rad, proj):
    rsq = torch.sum(proj**2)
    return proj * (1.0 + rad[0] * rsq + rad[1] * rsq * rsq)


def project(cam, X):
    Xcam = rodrigues_rotate_point(cam[0:3], X - cam[3:6])
    distorted = radial_distort(cam[9:11], Xcam[0:2] / Xcam[2])
    return distorted * cam[6] + cam[7:9]


def reproj_err(cam, X, w, feat):
    return w * (project(cam, X) - feat)


def w_err(w):
    return 1.0 - w**2


class Problem:
    def __init__(self, data):
        self.n, self.m, self.p = int(data["n"]), int(data["m"]), int(data["p"])
        self.cams = [torch.tensor(data["cam"], requires_grad=True) for _ in range(self.n)]
        self.X = [torch.tensor(data["x"], requires_grad=True) for _ in range(self.m)]
        self.w = [torch.tensor(float(data["w"]), requires_grad=True) for _ in range(self.p)]
        self.feats = torch.tensor([data["feat"]] * self.p)
        self.obs = [(i % self.n, i % self.m) for i in range(self.p)]


def dedup(values):
    return values[:30] + values[-1:]


def objective(data):
    problem = Problem(data)

    def run():
        with torch.no_grad():
            r = torch.stack([reproj_err(problem.cams[c], problem.X[x], problem.w[i], problem.feats[i])
                             for i, (c, x) in enumerate(problem.obs)])
            e = torch.stack([w_err(w) for w in problem.w])
        return {
            "reproj_error": {"elements": r[0].tolist(), "repeated": problem.p},
            "w_err": {"element": float(e[0]), "repeated": problem.p},
        }

    return run


def jacobian(data):
    problem = Problem(data)
    n, m, p = problem.n, problem.m, problem.p

    def run():
        rows, cols, vals = [0], [], []
        for i, (c, x) in enumerate(problem.obs):
            inputs = (problem.cams[c], problem.X[x], problem.w[i])
            r = reproj_err(*inputs, problem.feats[i])
            for k in range(2):
                grads = torch.autograd.grad(r[k], inputs, retain_graph=k == 0)
                rows.append(rows[-1] + N_CAM + 3 + 1)
                cols.extend(range(N_CAM * c, N_CAM * c + N_CAM))
                cols.extend(range(N_CAM * n + 3 * x, N_CAM * n + 3 * x + 3))
                cols.append(N_CAM * n + 3 * m + i)
                vals.extend(torch.cat([g.reshape(-1) for g in grads]).tolist())
        for i in range(p):
            (d,) = torch.autograd.grad(w_err(problem.w[i]), (problem.w[i],))
            rows.append(rows[-1] + 1)
            cols.append(N_CAM * n + 3 * m + i)
            vals.append(float(d))
        return {"rows": dedup(rows), "cols": dedup(cols), "vals": dedup(vals)}

    return run
