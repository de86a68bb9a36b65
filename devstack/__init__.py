"""The local stack for `make dev` and the e2e tests: moto + an in-process API Gateway stand-in."""
