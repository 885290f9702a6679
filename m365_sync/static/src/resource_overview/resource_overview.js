/** The resource overview: people by days (or weeks), each cell coloured by load.
 *
 * A client action (Project → Reporting → Resource overview) drawn from
 * m365.resource.overview.get_overview; a click on a cell opens that day's
 * Outlook busy slots and Odoo activities (get_cell) beside the grid.
 */
import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

export function formatHours(value) {
    if (value === null || value === undefined) {
        return "";
    }
    const rounded = Math.round(value * 10) / 10;
    return `${rounded.toLocaleString(undefined, { maximumFractionDigits: 1 })} h`;
}

export function cellTitle(cell) {
    const lines = [
        _t("Capacity: %s", formatHours(cell.capacity)),
        _t("Booked in Outlook: %s", formatHours(cell.busy)),
        _t("Planned in Odoo: %s", formatHours(cell.planned)),
        _t("Free: %s", formatHours(cell.free)),
    ];
    if (cell.load !== null) {
        lines.push(_t("Load: %s %", cell.load));
    }
    if (cell.off) {
        lines.push(_t("Time off: %s", formatHours(cell.off)));
    }
    if (cell.state === "unknown") {
        lines.push(_t("No workload yet (busy time not imported for these days)."));
    }
    return lines.join("\n");
}

export class ResourceOverview extends Component {
    static template = "m365_sync.ResourceOverview";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({
            data: null,
            scale: "day",
            span: 14,
            start: null,
            filters: { team: false, project_id: false, department_id: false },
            cell: null,
            selected: null,
            loading: true,
        });
        this.formatHours = formatHours;
        this.cellTitle = cellTitle;
        onWillStart(() => this.load());
    }

    async load() {
        this.state.loading = true;
        const data = await this.orm.call("m365.resource.overview", "get_overview", [], {
            start: this.state.start,
            scale: this.state.scale,
            span: this.state.span,
            filters: this.state.filters,
        });
        this.state.data = data;
        this.state.start = data.start;
        this.state.loading = false;
    }

    setScale(scale) {
        this.state.scale = scale;
        this.state.span = scale === "day" ? 14 : 8;
        this.state.cell = null;
        this.load();
    }

    move(where) {
        this.state.start = where === "today" ? null : this.state.data[where];
        this.state.cell = null;
        this.load();
    }

    toggleTeam() {
        this.state.filters.team = !this.state.filters.team;
        this.load();
    }

    setFilter(name, ev) {
        this.state.filters[name] = parseInt(ev.target.value) || false;
        this.load();
    }

    maxBar(row) {
        return Math.max(row.totals.capacity, row.totals.booked, 1);
    }

    barWidth(row, value) {
        return `${Math.min(100, (100 * value) / this.maxBar(row))}%`;
    }

    async openCell(row, column) {
        this.state.selected = `${row.user_id}:${column.key}`;
        this.state.cell = await this.orm.call("m365.resource.overview", "get_cell", [
            row.user_id,
            column.key,
            column.until,
        ]);
    }

    closeCell() {
        this.state.cell = null;
        this.state.selected = null;
    }

    openRecord(activity) {
        this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: activity.res_model,
            res_id: activity.res_id,
            views: [[false, "form"]],
        });
    }

    openWorkload() {
        this.actionService.doAction("m365_sync.action_m365_workload_day");
    }
}

registry.category("actions").add("m365_sync.resource_overview", ResourceOverview);
