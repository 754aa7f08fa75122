"""Temporal client construction: the pydantic data converter with encrypted payloads
(``jiuzhu/codec.py``), so every client and worker of one deployment shares the key ring."""

from temporalio.client import Client

from jiuzhu.codec import data_converter, key_ring
from jiuzhu.settings import Settings


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(key_ring(settings)),
    )
