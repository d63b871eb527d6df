// Every time is shown and entered in Asia/Shanghai, whatever the desktop's own zone is set to.
import dayjs from 'dayjs'

export const ZONE = 'Asia/Shanghai'

export function shanghaiNow(): dayjs.Dayjs {
  return dayjs().tz(ZONE)
}

/** "2026-11-27T09:00" (wall time in Shanghai) -> "2026-11-27T09:00:00+08:00". */
export function wallTimeToIso(value: string): string {
  return dayjs.tz(value, ZONE).format('YYYY-MM-DDTHH:mm:ssZ')
}

export function formatTime(value: string | null | undefined): string {
  return value ? dayjs(value).tz(ZONE).format('YYYY-MM-DD HH:mm') : ''
}
