"""The statutory steps of an application, one module per step group: ``intake`` (受理, 一次性告知,
补齐), ``investigation`` (入户调查, 信息核对, the means test), ``publicity`` (初审, 公示, 异议,
民主评议), ``decision`` (审核确认, 县级入户核查, special deadline, 临时救助备案), ``closing``
(不予确认 and its notice, 送达, 撤回, 终止审核), ``follow_on`` (低保边缘/刚性支出 offer and the
linked follow-on case). Each module is a mixin of ``ApplicationCase`` holding its steps'
Updates and validators; ``workflows/applications/workflow.py`` combines them."""
