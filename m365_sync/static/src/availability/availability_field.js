/** Outlook free/busy of the people chosen, while an appointment or activity is scheduled.
 *
 * The field's value is the JSON of m365.availability._m365_view: the day, the
 * proposed time, one row per person (busy blocks — times and status, a title only
 * when the viewer may see it — or Outlook's error for that person), the
 * conflict and the next free slot. "Use this time" writes the slot into the
 * record's start (and stop) field, named by the widget's options.
 */
import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

const { DateTime } = luxon;

export class M365AvailabilityField extends Component {
    static template = "m365_sync.AvailabilityField";
    static props = {
        ...standardFieldProps,
        startField: { type: String, optional: true },
        stopField: { type: String, optional: true },
    };

    get info() {
        return this.props.record.data[this.props.name] || {};
    }

    get range() {
        // The working part of the day: 07:00 to 20:00 local, stretched to any busy time.
        const day = DateTime.fromISO(this.info.day_start, { zone: "utc" }).setZone(this.info.tz || "utc");
        let start = day.set({ hour: 7 });
        let end = day.set({ hour: 20 });
        const moments = [this.info.proposed, ...this.info.people.flatMap((p) => p.busy)];
        for (const item of moments) {
            const s = DateTime.fromISO(item.start);
            const e = DateTime.fromISO(item.end);
            if (s < start && s >= day) {
                start = s.startOf("hour");
            }
            if (e > end && e <= day.plus({ days: 1 })) {
                end = e.endOf("hour");
            }
        }
        return { start, end };
    }

    get hours() {
        const { start, end } = this.range;
        const out = [];
        for (let h = start.startOf("hour"); h < end; h = h.plus({ hours: 1 })) {
            out.push({ key: h.toISO(), label: h.toFormat("HH"), style: this.position(h, h) });
        }
        return out;
    }

    position(from, to) {
        const { start, end } = this.range;
        const span = end.diff(start).as("minutes") || 1;
        const left = Math.max(0, from.diff(start).as("minutes"));
        const right = Math.min(span, to.diff(start).as("minutes"));
        return `left: ${(100 * left) / span}%; width: ${Math.max(0.5, (100 * (right - left)) / span)}%;`;
    }

    blockStyle(item) {
        return this.position(DateTime.fromISO(item.start), DateTime.fromISO(item.end));
    }

    label(item) {
        const zone = this.info.tz || "utc";
        const s = DateTime.fromISO(item.start).setZone(zone);
        const e = DateTime.fromISO(item.end).setZone(zone);
        const status = {
            busy: _t("Busy"),
            tentative: _t("Tentative"),
            oof: _t("Out of office"),
        }[item.status] || item.status;
        return `${s.toFormat("HH:mm")}–${e.toFormat("HH:mm")} ${item.title || status}`;
    }

    slotLabel(slot) {
        const zone = this.info.tz || "utc";
        const s = DateTime.fromISO(slot.start).setZone(zone);
        const e = DateTime.fromISO(slot.end).setZone(zone);
        return `${s.toFormat("ccc d LLL, HH:mm")}–${e.toFormat("HH:mm")}`;
    }

    async useSuggestion() {
        const slot = this.info.suggestion;
        const changes = {};
        changes[this.props.startField] = DateTime.fromISO(slot.start).setZone("default");
        if (this.props.stopField) {
            changes[this.props.stopField] = DateTime.fromISO(slot.end).setZone("default");
        }
        await this.props.record.update(changes);
    }
}

export const m365AvailabilityField = {
    component: M365AvailabilityField,
    displayName: _t("Outlook availability"),
    supportedTypes: ["json"],
    extractProps: ({ options }) => ({
        startField: options.start_field || "start",
        stopField: options.stop_field,
    }),
};

registry.category("fields").add("m365_availability", m365AvailabilityField);
