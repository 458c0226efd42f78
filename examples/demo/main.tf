# The demo: one webhook per Humanitec event, against the local emulator.
# scripts/demo.py sets HUMANITEC_API_PREFIX, HUMANITEC_ORG and HUMANITEC_TOKEN, and
# receiver_url to a local HTTPS receiver, which then shows what each webhook sends.

terraform {
  required_providers {
    humanitec = {
      source = "humanitec/humanitec"
    }
  }
}

provider "humanitec" {}

variable "app_id" {
  type    = string
  default = "demo-app"
}

variable "receiver_url" {
  type    = string
  default = "https://hooks.example.com/humanitec"
}

resource "humanitec_webhook" "environment_created" {
  id       = "environment-created"
  app_id   = var.app_id
  url      = "${var.receiver_url}/environment-created"
  triggers = [{ scope = "environment", type = "created" }]
  payload = {
    event       = "$${event}"
    environment = "$${env_id}"
    name        = "$${name}"
    type        = "$${type}"
  }
}

resource "humanitec_webhook" "environment_deleted" {
  id       = "environment-deleted"
  app_id   = var.app_id
  url      = "${var.receiver_url}/environment-deleted"
  triggers = [{ scope = "environment", type = "deleted" }]
  payload = {
    event       = "$${event}"
    environment = "$${env_id}"
    by          = "$${triggered_by}"
  }
}

resource "humanitec_webhook" "deployment_started" {
  id       = "deployment-started"
  app_id   = var.app_id
  url      = "${var.receiver_url}/deployment-started"
  headers  = { "X-Source" = "terraform" }
  triggers = [{ scope = "deployment", type = "started" }]
  payload = {
    application = "$${app_id}"
    environment = "$${env_id}"
    deployment  = "$${deploy_id}"
    comment     = "$${comment}"
  }
}

resource "humanitec_webhook" "deployment_finished" {
  id       = "deployment-finished"
  app_id   = var.app_id
  url      = "${var.receiver_url}/deployment-finished"
  triggers = [{ scope = "deployment", type = "finished" }]
  payload = {
    application = "$${app_id}"
    environment = "$${env_id}"
    deployment  = "$${deploy_id}"
    status      = "$${status}"
    at          = "$${triggered_at}"
  }
}
