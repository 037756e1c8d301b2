"""zhang2022: what sets the simulated CHSH value and QBER. The atom-photon state is derived from
the experiment's atom-atom fidelity 0.892, so the model must give the Werner closed forms of that
fidelity (less a little for dark-count heralds); and whatever the state, the model ties the two
compared quantities by S = 2 sqrt2 (1 - 2 QBER), the line the measured pair lies about 2 sigma
off (the gap the experiment file names)."""

import math

from qstack.validation import compare_experiment, experiments_dir, load_experiment

EXPERIMENT = load_experiment(experiments_dir() / "zhang2022.toml")


def _simulated():
    return {c.quantity: c.simulated for c in compare_experiment(EXPERIMENT, reduced=True)}


def test_s_and_qber_are_the_werner_closed_forms_of_the_measured_fidelity():
    w = (4 * 0.892 - 1) / 3  # the atom-atom Werner parameter the atom-photon state is split from
    sim = _simulated()
    s_closed, qber_closed = 2 * math.sqrt(2) * w, (1 - w) / 2  # 2.421, 0.0721
    assert abs(sim["CHSH S"] - s_closed) < 0.003
    assert abs(sim["quantum bit error rate of the key bases"] - qber_closed) < 0.001


def test_model_ties_s_to_qber_and_the_measured_pair_lies_off_that_line():
    sim = _simulated()
    s, qber = sim["CHSH S"], sim["quantum bit error rate of the key bases"]
    assert abs(s - 2 * math.sqrt(2) * (1 - 2 * qber)) < 1e-9
    (s_q,) = [q for q in EXPERIMENT.quantities if q.metric == "chsh"]
    (q_q,) = [q for q in EXPERIMENT.quantities if q.metric == "qber"]
    s_from_qber = 2 * math.sqrt(2) * (1 - 2 * q_q.measured)  # 2.387
    sigma = math.hypot(s_q.error[0], 4 * math.sqrt(2) * q_q.error[0])  # symmetric errors
    assert 1.8 < (s_q.measured - s_from_qber) / sigma < 2.2
