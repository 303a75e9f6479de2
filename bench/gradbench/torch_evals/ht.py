"""GradBench's ht (ADBench's hand tracking, the simple case: no us) in PyTorch, float64, as ADBench's PyTorch module.

objective is the 3n errors between the points and their corresponding skinned vertices, flattened;
jacobian their 3n × 26 Jacobian by theta.
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


def hand_objective(theta, model, correspondences, points):
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
    positions = positions @ R.t() + pose[2]
    return (points - positions[correspondences]).reshape(-1)


def prepare(data):
    model = dict(data["data"]["model"])
    for key in ("base_relatives", "inverse_base_absolutes", "base_positions", "weights"):
        model[key] = torch.tensor(model[key])
    correspondences = torch.tensor(data["data"]["correspondences"], dtype=torch.int64)
    points = torch.tensor(data["data"]["points"])
    return torch.tensor(data["theta"]), model, correspondences, points


def objective(data):
    theta, model, correspondences, points = prepare(data)

    def run():
        with torch.no_grad():
            return hand_objective(theta, model, correspondences, points).tolist()

    return run


def jacobian(data):
    theta0, model, correspondences, points = prepare(data)

    def run():
        theta = theta0.clone().requires_grad_(True)
        err = hand_objective(theta, model, correspondences, points)
        rows = [torch.autograd.grad(e, theta, retain_graph=True)[0].tolist() for e in err]
        return rows

    return run
