/// A group file under tasks/ (lm-evaluation-harness's `group:` + `task:` files): a name that `--tasks`
/// expands to its members, and, in its `pixelgpt` block, how reports lay the group out (a table of columns
/// with an average, optionally a bar chart) and whether `--head finetune` trains one head for all members.
/// Groups are data: nothing in Swift knows GLUE or XNLI by name.
public struct TaskGroup: Decodable, Sendable, Equatable {
    /// One table column: a member and the metric it shows.
    public struct Column: Decodable, Sendable, Equatable {
        public let task: String
        public let header: String
        public let metric: MetricName
    }

    /// The table's "Avg" column: the mean of the unrounded column values.
    public struct Average: Decodable, Sendable, Equatable {
        public enum Over: String, Decodable, Sendable {
            /// The columns some row of the table has, for rows that have all of them.
            case shown
            /// Every column, for rows that have all of them.
            case all
        }

        /// Its name in reference files and CSV ("glue_avg").
        public let key: String
        public let over: Over
    }

    /// A bar chart of the table's columns and average, one bar colour per report row.
    public struct Chart: Decodable, Sendable, Equatable {
        /// The PNG written beside report.md.
        public let file: String
        public let title: String
    }

    public struct Table: Decodable, Sendable, Equatable {
        public let columns: [Column]
        public let average: Average
        public let chart: Chart?
    }

    /// Members whose `--head finetune` heads are one head trained on all of them (SPEC 7.2: XNLI's
    /// translate-train-all), or on `source_task` alone for `--xnli-setting train-en`.
    public struct SharedHead: Decodable, Sendable, Equatable {
        public let sourceTask: String

        enum CodingKeys: String, CodingKey { case sourceTask = "source_task" }
    }

    public struct PixelGPTSettings: Decodable, Sendable, Equatable {
        public let table: Table?
        public let sharedHead: SharedHead?

        enum CodingKeys: String, CodingKey {
            case table
            case sharedHead = "shared_head"
        }
    }

    public let group: String
    /// How reports name the group ("XNLI" for xnli); the group name when absent.
    public let groupAlias: String?
    /// Member task names.
    public let task: [String]
    public let pixelgpt: PixelGPTSettings?

    enum CodingKeys: String, CodingKey {
        case group, task, pixelgpt
        case groupAlias = "group_alias"
    }

    public var displayName: String { groupAlias ?? group }
    public var table: Table? { pixelgpt?.table }
    public var sharedHead: SharedHead? { pixelgpt?.sharedHead }

    /// Checks what decoding cannot, against the tasks the registry read.
    func validate(tasks: Set<String>) throws(TaskError) {
        func fail(_ key: String, _ reason: String) -> TaskError { TaskError(task: group, key: key, reason: reason) }
        if let problem = TaskDefinition.fileNameProblem(group) { throw fail("group", problem) }
        guard !task.isEmpty else { throw fail("task", "no member") }
        for (i, name) in task.enumerated() {
            guard tasks.contains(name) else { throw fail("task[\(i)]", "no task \"\(name)\" in the tasks directory") }
            guard !task[..<i].contains(name) else { throw fail("task[\(i)]", "\"\(name)\" is listed twice") }
        }
        if let table {
            guard !table.columns.isEmpty else { throw fail("pixelgpt.table.columns", "no column") }
            for (i, column) in table.columns.enumerated() {
                guard task.contains(column.task) else {
                    throw fail("pixelgpt.table.columns[\(i)].task", "\"\(column.task)\" is not a member of the group")
                }
                guard !table.columns[..<i].contains(where: { $0.task == column.task }) else {
                    throw fail("pixelgpt.table.columns[\(i)].task", "\"\(column.task)\" has a column already")
                }
                // A header is one markdown table cell.
                guard !column.header.isEmpty, !column.header.contains("|"),
                      !column.header.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                    throw fail("pixelgpt.table.columns[\(i)].header", "give a non-empty header without '|' or control characters")
                }
            }
            if let problem = TaskDefinition.fileNameProblem(table.average.key) { throw fail("pixelgpt.table.average.key", problem) }
            if let chart = table.chart, let problem = TaskDefinition.fileNameProblem(chart.file) {
                throw fail("pixelgpt.table.chart.file", problem)
            }
        }
        if let source = sharedHead?.sourceTask, !task.contains(source) {
            throw fail("pixelgpt.shared_head.source_task", "\"\(source)\" is not a member of the group")
        }
    }
}
