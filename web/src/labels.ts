// Chinese first, English beside: the names of codes the APIs send.
export const CHANNELS: Record<string, string> = {
  visit: '来访 visit',
  letter: '来信 letter',
  phone: '来电 phone',
  online: '网上 online',
  congress_referral: '人大交办 People’s Congress referral',
  higher_referral: '上级转办 referral from above',
}

export const ASSESSMENTS: Record<string, string> = {
  undetermined: '待定 undetermined',
  justified: '有理 justified',
  not_justified: '无理 not justified',
}

export const ESCALATIONS: Record<string, string> = {
  province: '到省 to the province',
  beijing: '进京 to Beijing',
}

// The same labels as assignment's STATE_LABELS (services/assignment/.../domain/case.py).
export const STATES: Record<string, string> = {
  registered: '已登记，待流转 registered',
  awaiting_acceptance: '待受理 awaiting acceptance',
  handling: '办理中 being handled',
  hearing: '听证中 in a hearing',
  completion_reported: '已报办结，待审核 completion reported',
  completion_accepted: '办结已通过，待答复 reply due',
  replied: '已答复 replied',
  under_review: '复查中 under review',
  reviewed: '已复查 reviewed',
  under_re_review: '复核中 under re-review',
  re_reviewed: '已复核 re-reviewed',
  terminated: '已终结 terminated',
  declined: '不予受理 declined',
  forwarded: '已转送 forwarded',
  diverted: '已导入法定程序 diverted',
  objected: '已提出交办异议 objected',
}

export const COMMANDS: Record<string, string> = {
  accept: '受理 Accept',
  decline: '不予受理 Decline',
  forward: '转送 Forward',
  divert: '导入法定程序 Divert',
  object: '交办异议 Object',
  assign: '交办 Assign',
  take_ownership: '领导包案 Leader ownership',
  record_committee_decision: '党委研究决定 Party committee decision',
  record_progress: '记录进展 Record progress',
  report_completion: '报告办结 Report completion',
  accept_completion: '审核通过 Accept completion',
  send_back: '退回 Send back',
  grant_extension: '延期 Grant extension',
  start_hearing: '开始听证 Start hearing',
  end_hearing: '结束听证 End hearing',
  reply: '答复 Reply',
  rate_satisfaction: '满意度 Satisfaction',
  request_review: '申请复查 Request review',
  decide_review: '复查决定 Decide review',
  request_re_review: '申请复核 Request re-review',
  decide_re_review: '复核决定 Decide re-review',
  congress_supervise: '人大督办 Congress supervision',
  congress_report: '书面报告 Congress report',
  record_delivery: '登记送达 Record delivery',
}

export const ENUMS: Record<string, Record<string, string>> = {
  Outcome: { support: '支持 support', explain: '解释说明 explain', not_supported: '不予支持 not supported' },
  Satisfaction: {
    satisfied: '满意 satisfied',
    basically_satisfied: '基本满意 basically satisfied',
    dissatisfied: '不满意 dissatisfied',
  },
  ReviewDecision: { upheld: '维持 upheld', revised: '变更 revised' },
  DeliveredDocument: {
    reply: '答复意见书 reply',
    review_decision: '复查意见书 review decision',
    re_review_decision: '复核意见书 re-review decision',
  },
  CommitteeBody: {
    party_committee_meeting: '党委会 party committee meeting',
    city_bureau_committee: '市局党委 city bureau committee',
    sub_bureau_committee: '分局党委 sub-bureau committee',
    political_legal_committee: '政法委 political-legal committee',
  },
  DeliveryMethod: { in_person: '直接送达 in person', post: '邮寄送达 by post', electronic: '电子送达 electronic' },
}

// 书面告知 the written notices intake renders (POST /api/v1/cases/{case}/notices/{kind}).
export const NOTICES: Record<string, string> = {
  acceptance: '受理告知书 acceptance notice',
  declined: '不予受理告知书 refusal notice',
  forwarded: '转送告知书 forwarding notice',
  extension: '延期告知书 extension notice',
  reply: '答复意见书 reply',
  review: '复查意见书 review decision',
  re_review: '复核意见书 re-review decision',
}

export const DEADLINES: [string, string][] = [
  ['acceptance_due', '受理期限 acceptance due'],
  ['objection_due', '异议期限 objection due'],
  ['handling_due', '办理期限 handling due'],
  ['review_request_until', '申请复查截止 review request until'],
  ['review_due', '复查期限 review due'],
  ['re_review_request_until', '申请复核截止 re-review request until'],
  ['re_review_due', '复核期限 re-review due'],
]

export function stateLabel(state: string, fallback?: string): string {
  return STATES[state] ?? fallback ?? state
}
