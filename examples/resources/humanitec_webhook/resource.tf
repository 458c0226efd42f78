resource "humanitec_webhook" "deployments" {
  id     = "notify-deployments"
  app_id = "my-app"
  url    = "https://example.com/hooks/humanitec"

  triggers = [
    { scope = "deployment", type = "started" },
    { scope = "deployment", type = "finished" },
  ]

  headers = {
    "X-Source" = "terraform" # plain headers: shown in plans, kept in state
  }

  # Credentials: write-only (Terraform 1.11+), merged into the headers Humanitec sends,
  # never stored in state or shown in plans. Bump the version to send a new value.
  secret_headers_wo = {
    "Authorization" = "Bearer ${var.hook_token}" # a Terraform reference: interpolated
  }
  secret_headers_wo_version = 1

  # Humanitec placeholders: "$${...}" in HCL is the literal "${...}" Humanitec fills in.
  payload = {
    "application" = "$${app_id}"
    "environment" = "$${env_id}"
    "deployment"  = "$${deploy_id}"
    "status"      = "$${status}"
  }
}

variable "hook_token" {
  type      = string
  sensitive = true
}
