"""Services started on this machine for the benchmarks and the tests: object-store servers on
loopback (object_stores: moto's S3, gcp-storage-emulator) and Beam's portable services (local_runners:
a Prism job server and SDK worker pools)."""
