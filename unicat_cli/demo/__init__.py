"""The bundled demo network: real library records served as real OAI-PMH endpoints on loopback.

``unicat demo`` loads the libraries of ``mappings/demo/network.toml`` (:mod:`unicat_cli.demo.network`),
serves each one with :func:`unicat_cli.demo.oai_endpoint.start_endpoints` and harvests them over HTTP
like any other library, so the demo exercises the same code paths as a real union catalogue.
"""
