data "humanitec_webhooks" "all" {
  app_id = "my-app"
}

# No attribute is sensitive: ids and URLs go into outputs as they are.
output "webhook_urls" {
  value = { for hook in data.humanitec_webhooks.all.webhooks : hook.id => hook.url }
}

output "disabled_webhooks" {
  value = [for hook in data.humanitec_webhooks.all.webhooks : hook.id if hook.disabled]
}
