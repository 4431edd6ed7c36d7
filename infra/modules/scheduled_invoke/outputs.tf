output "schedule_name" {
  description = "The schedule's name."
  value       = aws_scheduler_schedule.this.name
}

output "schedule_expression" {
  description = "When the schedule runs."
  value       = aws_scheduler_schedule.this.schedule_expression
}

output "role_arn" {
  description = "The role the schedule takes."
  value       = aws_iam_role.this.arn
}
