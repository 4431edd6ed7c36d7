variable "name" {
  description = "The topic's name, and its key's alias (alias/<name>)."
  type        = string
}

variable "key_description" {
  description = "The description of the topic's KMS key."
  type        = string
}

variable "email" {
  description = "An address to subscribe by e-mail, or \"\" for none."
  type        = string
}

variable "account_id" {
  description = "The account whose CloudWatch alarms alone may publish (aws:SourceAccount), and which administers the key."
  type        = string
}

variable "partition" {
  description = "The AWS partition of the account (aws, aws-cn, …)."
  type        = string
}
