// Working days on the State Council's holiday arrangement (intake's /reference/holidays?year=):
// weekends and public holidays are off, the weekend days the notice declares working days
// (调休上班) are on. A year without its file counts weekends only and says so (provisional).
import dayjs from 'dayjs'
import { intake } from './api/client'

interface HolidayYear {
  year: number
  holidays: { name: string; start: string; end: string }[]
  working_days: { day: string; name: string }[]
}

interface YearDays { off: Set<string>; on: Set<string>; known: boolean }

const years = new Map<number, Promise<YearDays>>()

async function fetchYear(year: number): Promise<YearDays> {
  const { data } = await intake.GET('/api/v1/reference/holidays', { params: { query: { year } } })
  const found = data as HolidayYear | undefined
  const off = new Set<string>()
  const on = new Set<string>()
  for (const h of found?.holidays ?? []) {
    for (let d = dayjs(h.start); !d.isAfter(dayjs(h.end), 'day'); d = d.add(1, 'day')) off.add(d.format('YYYY-MM-DD'))
  }
  for (const w of found?.working_days ?? []) on.add(w.day)
  return { off, on, known: found !== undefined }
}

function year(y: number): Promise<YearDays> {
  let cached = years.get(y)
  if (!cached) {
    cached = fetchYear(y)
    years.set(y, cached)
  }
  return cached
}

export interface Calendar {
  isWorkingDay(day: string): boolean
  /** Working days after `from` up to and including `to`; negative when `to` is before `from`. */
  between(from: string, to: string): number
  /** Every year the count needed has its arrangement configured. */
  known: boolean
}

/** A calendar covering the years from `from` to `to` (loaded once per year and kept). */
export async function calendar(from: string, to: string): Promise<Calendar> {
  const first = Math.min(dayjs(from).year(), dayjs(to).year())
  const last = Math.max(dayjs(from).year(), dayjs(to).year())
  const loaded = new Map<number, YearDays>()
  for (let y = first; y <= last; y++) loaded.set(y, await year(y))
  const isWorkingDay = (day: string): boolean => {
    const y = loaded.get(dayjs(day).year())
    if (y?.on.has(day)) return true
    if (y?.off.has(day)) return false
    const weekday = dayjs(day).day()
    return weekday !== 0 && weekday !== 6
  }
  const count = (a: string, b: string): number => {
    let n = 0
    for (let d = dayjs(a).add(1, 'day'); !d.isAfter(dayjs(b), 'day'); d = d.add(1, 'day')) {
      if (isWorkingDay(d.format('YYYY-MM-DD'))) n++
    }
    return n
  }
  return {
    isWorkingDay,
    between: (a, b) => (dayjs(b).isBefore(dayjs(a), 'day') ? -count(b, a) : count(a, b)),
    known: [...loaded.values()].every((y) => y.known),
  }
}
