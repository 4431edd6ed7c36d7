output "topic_arn" {
  description = "The topic the alarms notify."
  value       = aws_sns_topic.this.arn
}

output "topic_name" {
  description = "The topic's name."
  value       = aws_sns_topic.this.name
}

output "key_arn" {
  description = "The topic's KMS key."
  value       = aws_kms_key.this.arn
}

output "email_endpoints" {
  description = "The addresses subscribed by e-mail: none, or var.email."
  value       = aws_sns_topic_subscription.email[*].endpoint
}
