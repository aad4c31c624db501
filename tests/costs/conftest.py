"""A small price file with round numbers, so every expected cost in these tests is arithmetic on the page."""
from __future__ import annotations

import pytest

from ragft.costs.prices import load_catalog

ROUND_PRICES = """
[[chat]]
name = "chat-a"
provider = "test"
input_per_1m = 1.0
output_per_1m = 4.0
tokenizer = "cl100k_base"
source = "https://example.test/prices"
as_of = 2026-01-01

[[fine_tuning]]
name = "chat-a"
provider = "test"
training_per_1m = 10.0
input_per_1m = 2.0
output_per_1m = 8.0
source = "https://example.test/prices"
as_of = 2026-01-01

[[embedding]]
name = "embed-a"
provider = "test"
per_1m_tokens = 0.1
dimensions = 256
tokenizer = "cl100k_base"
source = "https://example.test/prices"
as_of = 2026-01-01

[[vector_db]]
name = "db-a"
monthly_fixed_usd = 20.0
per_gb_month_usd = 1.0
per_1m_queries_usd = 5.0
per_1m_writes_usd = 2.0
source = "https://example.test/prices"
as_of = 2026-01-01

[[self_hosted]]
name = "gpu-a"
gpu = "test GPU"
gpu_hour_usd = 3.6
output_tokens_per_s = 1000
input_tokens_per_s = 10000
training_tokens_per_s = 2000
stream_tokens_per_s = 50
tokenizer = "chars/4"
source = "https://example.test/gpu"
as_of = 2026-01-01
"""


@pytest.fixture
def price_file(tmp_path):
    path = tmp_path / "round-prices.toml"
    path.write_text(ROUND_PRICES)
    return path


@pytest.fixture
def catalog(price_file):
    return load_catalog(price_file)
