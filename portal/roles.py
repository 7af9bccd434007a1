"""The three roles and what they may do. Checked on the server by portal.audit.authorize()."""

VIEW = "portal.view_resources"
OPERATE = "portal.operate_workloads"
ADMINISTER = "portal.manage_clusters"

