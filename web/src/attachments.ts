// What intake says of attachments (GET/POST /api/v1/cases/{case}/attachments).
export interface AttachmentOut {
  attachment_id: string
  version: number
  kind: string
  kind_name: string | null
  media_type: string
  media_type_name: string | null
  size: number
  sm3: string
  submission_id: string | null
  act_version: number | null
  act_type: string | null
  filename: string
  added_by: string
  added_at?: string
  erased?: boolean
}

export const ATTACHMENT_KINDS: { value: 'scan' | 'photo' | 'audio' | 'document'; label: string; accept: string }[] = [
  { value: 'scan', label: '信件扫描件 Scanned letter', accept: '.pdf,.jpg,.jpeg,.png,.tif,.tiff' },
  { value: 'photo', label: '照片 Photo', accept: '.jpg,.jpeg,.png,.tif,.tiff' },
  { value: 'audio', label: '录音 Recording', accept: '.mp3,.wav,.amr,.m4a' },
  { value: 'document', label: '文书材料 Document', accept: '.pdf,.docx,.jpg,.jpeg,.png,.tif,.tiff' },
]

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
