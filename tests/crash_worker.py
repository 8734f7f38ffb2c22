"""A delivery worker in its own process, for the test that kills it mid-broadcast (kill -9).

python -m tests.crash_worker DATABASE_URL LEASE_SECONDS
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp

from bot.broadcast import DeliveryWorker, WorkerConfig
from bot.connector import create_authentication
from bot.notice_transport import BotConnectorTransport
from storage.db import create_engine


async def main(url: str, lease: float) -> None:
    engine = create_engine(url)
    async with aiohttp.ClientSession() as http:
        transport = BotConnectorTransport(create_authentication("", "", "MultiTenant", "", http), "")
        config = WorkerConfig(poll=0.05, lease=lease, flush_interval=0.01)
        worker = DeliveryWorker(engine, transport, config, worker_id="doomed")
        print("ready", flush=True)
        await worker.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
