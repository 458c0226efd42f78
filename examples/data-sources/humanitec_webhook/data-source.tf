data "humanitec_webhook" "deployments" {
  app_id = "my-app"
  id     = "notify-deployments"
}

output "deployments_hook_url" {
  value = data.humanitec_webhook.deployments.url
}
