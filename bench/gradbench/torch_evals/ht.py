"""GradBench's ht (ADBench's hand tracking) in PyTorch, float64, as ADBench's PyTorch module.

objective is the 3n errors between the points and their corresponding skinned vertices (the simple
case, us empty) or points on the mesh's triangles at the barycentric coordinates us (the
complicated case), flattened; jacobian their Jacobian by theta (3n × 26), in the complicated case
with each point's two columns by its us first (3n × 28).
"""
import torch


def to_pose_params(theta, bone_count):
    pose = torch.zeros((bone_count + 3, 3))
    pose[0] = theta[0:3]
    pose[1] = torch.ones(3)
    pose[2] = theta[3:6]
    i_theta, i_pose = 6, 5
    for _finger in range(5):
        for i in (1, 2, 3):
            pose[i_pose, 0] = theta[i_theta]
            i_theta += 1
            if i == 1:
                pose[i_pose, 1] = theta[i_theta]
                i_theta += 1
            i_pose += 1
        i_pose += 1
    return pose


def euler_angles_to_rotation_matrix(xzy):
    tx, ty, tz = xzy[0], xzy[2], xzy[1]
    cx, sx, cy, sy, cz, sz = torch.cos(tx), torch.sin(tx), torch.cos(ty), torch.sin(ty), torch.cos(tz), torch.sin(tz)
    one, zero = torch.ones(()), torch.zeros(())
    Rx = torch.stack([torch.stack([one, zero, zero]), torch.stack([zero, cx, -sx]), torch.stack([zero, sx, cx])])
    Ry = torch.stack([torch.stack([cy, zero, -sy]), torch.stack([zero, one, zero]), torch.stack([sy, zero, cy])])
    Rz = torch.stack([torch.stack([cz, -sz, zero]), torch.stack([sz, cz, zero]), torch.stack([zero, zero, one])])
    return Rz @ Ry @ Rx


def angle_axis_to_rotation_matrix(v):
    n = torch.sqrt(torch.sum(v**2))
    if n < 0.0001:
        return torch.eye(3)
    x, y, z = v / n
    s, c = torch.sin(n), torch.cos(n)
    return torch.stack([
        torch.stack([x * x + (1 - x * x) * c, x * y * (1 - c) - z * s, x * z * (1 - c) + y * s]),
        torch.stack([x * y * (1 - c) + z * s, y * y + (1 - y * y) * c, y * z * (1 - c) - x * s]),
        torch.stack([x * z * (1 - c) - y * s, z * y * (1 - c) + x * s, z * z + (1 - z * z) * c]),
    ])


def vertex_positions(theta, model):
    bone_count = model["bone_count"]
    pose = to_pose_params(theta, bone_count)
    absolutes = []
    for b in range(bone_count):
        tr = torch.eye(4)
        tr[:3, :3] = euler_angles_to_rotation_matrix(pose[3 + b])
        relative = model["base_relatives"][b] @ tr
        parent = model["parents"][b]
        absolutes.append(relative if parent == -1 else absolutes[parent] @ relative)
    transforms = torch.stack([a @ inv for a, inv in zip(absolutes, model["inverse_base_absolutes"])])
    posed = torch.einsum("bij,vj->vbi", transforms, model["base_positions"])
    positions = torch.sum(posed * model["weights"].unsqueeze(2), 1)[:, :3]
    R = angle_axis_to_rotation_matrix(pose[0]) * pose[1]
    return positions @ R.t() + pose[2]


def hand_objective(theta, us, model, correspondences, points):
    positions = vertex_positions(theta, model)
    if us is None:
        return (points - positions[correspondences]).reshape(-1)
    corners = model["triangles"][correspondences]
    u = us.reshape(-1, 2)
    surface = (u[:, 0:1] * positions[corners[:, 0]] + u[:, 1:2] * positions[corners[:, 1]]
               + (1.0 - u[:, 0:1] - u[:, 1:2]) * positions[corners[:, 2]])
    return (points - surface).reshape(-1)


def prepare(data):
    model = dict(data["data"]["model"])
    for key in ("base_relatives", "inverse_base_absolutes", "base_positions", "weights"):
        model[key] = torch.tensor(model[key])
    model["triangles"] = torch.tensor(model["triangles"], dtype=torch.int64)
    correspondences = torch.tensor(data["data"]["correspondences"], dtype=torch.int64)
    points = torch.tensor(data["data"]["points"])
    us = torch.tensor(data["us"]) if len(data["us"]) > 0 else None
    return torch.tensor(data["theta"]), us, model, correspondences, points


def objective(data):
    theta, us, model, correspondences, points = prepare(data)

    def run():
        with torch.no_grad():
            return hand_objective(theta, us, model, correspondences, points).tolist()

    return run


def jacobian(data):
    theta0, us0, model, correspondences, points = prepare(data)

    def run():
        theta = theta0.clone().requires_grad_(True)
        us = None if us0 is None else us0.clone().requires_grad_(True)
        err = hand_objective(theta, us, model, correspondences, points)
        rows = []
        for r, e in enumerate(err):
            if us is None:
                rows.append(torch.autograd.grad(e, theta, retain_graph=True)[0].tolist())
            else:
                d_us, d_theta = torch.autograd.grad(e, (us, theta), retain_graph=True)
                i = r // 3
                rows.append(d_us[2 * i:2 * i + 2].tolist() + d_theta.tolist())
        return rows

    return run
