"""Pure parts of the Socrata client: strict JSON, backoff with jitter, Retry-After, config."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from casanare.publish.records import to_records
from casanare.publish.socrata_hook import PortalConfig, SocrataClient, _retry_after, dumps

pytestmark = pytest.mark.unit


def test_rows_are_strict_json_with_nulls_and_iso_dates() -> None:
    frame = pd.DataFrame({
        "n": [1.5, np.nan], "i": pd.array([3, None], dtype="Int64"),
        "t": pd.to_datetime(["2024-01-05 10:30:00", None]), "d": [date(2024, 2, 1), None],
        "dt": [datetime(2024, 3, 1, 8, 0), None], "b": [True, None], "s": ["ñandú", None],
    })
    body = json.loads(dumps(to_records(frame)))
    assert body[0] == {"n": 1.5, "i": 3, "t": "2024-01-05T10:30:00.000", "d": "2024-02-01T00:00:00.000",
                       "dt": "2024-03-01T08:00:00.000", "b": True, "s": "ñandú"}
    assert all(v is None for v in body[1].values())
    with pytest.raises(ValueError):
        dumps([{"x": float("nan")}])  # never invalid JSON on the wire


def test_backoff_is_exponential_with_full_jitter_and_retry_after_is_a_capped_floor() -> None:
    client = SocrataClient(PortalConfig(base_url="http://127.0.0.1:9", backoff_base=0.5, backoff_max=4,
                                        retry_after_max=10))
    try:
        for attempt, ceiling in ((0, 0.5), (1, 1.0), (3, 4.0), (10, 4.0)):
            delays = [client._delay(attempt) for _ in range(200)]
            assert min(delays) >= 0 and max(delays) <= ceiling
            assert len(set(delays)) > 100  # jitter: retries of many workers do not line up
        assert all(client._delay(0, retry_after=3) >= 3 for _ in range(50))
        assert all(client._delay(0, retry_after=60) <= 10 for _ in range(50))
    finally:
        client.close()


def test_retry_after_header_forms() -> None:
    assert _retry_after("2") == 2.0
    assert _retry_after(None) is None
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no wait
    assert _retry_after("nonsense") is None


def test_revisions_only_with_credentials_and_https_by_default() -> None:
    assert PortalConfig(base_url="https://www.datos.gov.co", username="k", password="s").usa_revisiones
    assert not PortalConfig(base_url="https://www.datos.gov.co").usa_revisiones
    assert not PortalConfig(base_url="http://127.0.0.1:8000", username="k", password="s").usa_revisiones
    assert PortalConfig(base_url="http://127.0.0.1:8000", username="k", password="s", revisiones=True).usa_revisiones
