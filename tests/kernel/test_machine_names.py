"""A machine's display name: brand and model without the brand said twice."""

from __future__ import annotations

import pytest

from kernel.models import CustomerEquipment, brand_and_model


@pytest.mark.parametrize("brand, model, name", [
    ("Canon", "iR 2206", "Canon iR 2206"),
    ("Canon", "Canon iR 2206", "Canon iR 2206"),
    ("canon", "CANON iR 2206", "CANON iR 2206"),
    (" Ricoh ", " MP 2555 ", "Ricoh MP 2555"),
    (None, "MP 2555", "MP 2555"),
    ("", "MP 2555", "MP 2555"),
    ("佳能", "佳能 iR 2206", "佳能 iR 2206"),
    ("Konica Minolta", "bizhub 287", "Konica Minolta bizhub 287"),
])
def test_brand_and_model(brand, model, name):
    assert brand_and_model(brand, model) == name
    assert CustomerEquipment(brand=brand, model=model).brand_model == name
