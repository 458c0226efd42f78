resource "humanitec_webhook" "deployments" {
  id     = "notify-deployments"
  app_id = "my-app"
  url    = "https://example.com/hooks/humanitec"

  triggers = [
    { scope = "deployment", type = "started" },
    { scope = "deployment", type = "finished" },
  ]

  headers = {
    "Authorization" = "Bearer ${var.hook_token}" # a Terraform reference: interpolated
  }

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
