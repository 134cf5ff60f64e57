"""bench/fit_review_weights.py's roll layouts (ninth pass): which organisations a layout sample lays
out, and that its sample is kept apart from the four fitting samples."""
from __future__ import annotations

from lienthong.sample.deliveries import load_shapes
from lienthong.sample.noise import load_noise, rates_for


def test_one_bare_roll_is_the_organisation_leaving_ids_out_most_often(bench):
    fitting, noise = bench("fit_review_weights"), load_noise()
    organisations = sorted(load_shapes())
    assert fitting.laid_out(noise, organisations, None) == sorted(
        organisations, key=lambda org: (-rates_for(noise, org)["id_missing"], org))
    (one,) = fitting.laid_out(noise, organisations, 1)
    assert rates_for(noise, one)["id_missing"] == max(rates_for(noise, org)["id_missing"] for org in organisations)


def test_layout_samples_are_named_apart_from_the_fitting_samples(bench):
    fitting = bench("fit_review_weights")
    names = [fitting.sample_name(*f) for f in fitting.FIT_ON]
    layouts = {key: fitting.sample_name(*f) for key, f in fitting.LAYOUT_SAMPLES.items()}
    assert len(set(names) | set(layouts.values())) == len(names) + len(layouts)
    assert layouts == {"all": "fit_demo_full_5005_9000_x5_bare", "one": "fit_demo_full_5005_9000_x5_bare1",
                       "withheld": "fit_demo_dues_withheld_5005_9000_x5",
                       "withheld-bare": "fit_demo_dues_withheld_5005_9000_x5_barewithheld"}
    assert all(f[4] is None for f in fitting.FIT_ON)  # the seed is fitted on the four samples alone
    assert set(fitting.LAYOUTS["bare"]) <= set(load_noise()["defaults"])  # rates noise.yml knows


def test_a_withheld_layout_lays_out_the_senders_the_setting_withholds_from(bench):
    fitting, noise = bench("fit_review_weights"), load_noise()
    organisations = sorted(load_shapes())
    sender = organisations[-1]
    assert fitting.laid_out(noise, organisations, "withheld", {"withheld": {sender: ["dues"]}}) == [sender]
    assert fitting.laid_out(noise, organisations, "withheld", {}) == []
