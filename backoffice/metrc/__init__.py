"""METRC connector: REST client, API keys in the OS key store, upload CSVs, and a simulator.

- ``client``: ``MetrcClient`` for the v1 endpoints the store uses; errors in ``errors``.
- ``payloads``: the POST batch elements and exact-Decimal JSON.
- ``keys``: per-user API keys in the OS keyring (never in the database or logs).
- ``csv_export``: manual mode, the CSV files METRC accepts for upload.
- ``simulator`` (+ ``sim_state``): a METRC look-alike on 127.0.0.1 for tests and the demo.
"""
