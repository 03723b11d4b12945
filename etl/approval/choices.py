"""The options and form fields of the approval tasks: plain constants, light enough for a DAG file's top level."""

APPROVE, REJECT = "批准", "退回修改"
OPTIONS = [APPROVE, REJECT]
COMMENT = "comment"  # the form field for the steward's comment
REASON = "reason"  # the form field for why an approval is withdrawn
NO_COMMENT_ZH = "（审核人未填写意见，请联系数据管理员）"
