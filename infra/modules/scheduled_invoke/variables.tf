variable "name" {
  description = "The schedule's name."
  type        = string
}

variable "description" {
  description = "What the schedule runs."
  type        = string
}

variable "schedule_expression" {
  description = "When it runs, e.g. rate(60 minutes)."
  type        = string
}

variable "target_arn" {
  description = "The ARN of the Lambda alias it invokes, the only thing its role may invoke."
  type        = string
}

variable "input" {
  description = "The event the function receives (JSON), or null for the Scheduler's default."
  type        = string
  default     = null
}

variable "role_name" {
  description = "The role's name: one of the `<project>-lambda-` roles the deploy role may create and pass."
  type        = string
}

variable "role_policy_name" {
  description = "The name of the role's inline policy."
  type        = string
}

variable "invoke_statement_sid" {
  description = "The Sid of the policy statement that allows the invocation."
  type        = string
}

variable "permissions_boundary_arn" {
  description = "The Lambda permissions boundary every `-lambda-` role carries."
  type        = string
}

variable "account_id" {
  description = "The account whose Scheduler alone may take the role (aws:SourceAccount)."
  type        = string
}
