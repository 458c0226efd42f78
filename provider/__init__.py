"""terraform-provider-humanitec: a Terraform provider for Humanitec webhooks, in Python.

Layout (arrows point one way only)::

    plugin/    the Terraform plugin protocol, generic: knows Terraform, not Humanitec
    api/       the Humanitec API client and models: knows HTTP, not Terraform
    provider.py, webhook.py
               the glue: provider configuration and the humanitec_webhook resource
    emulator/  a local Humanitec webhook API for tests, the demo and offline use
"""

__version__ = "0.1.0"
