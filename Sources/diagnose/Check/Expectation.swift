// `--expect` expressions: a comparison of two operands, each a number or a figure of a run.
//
//   expectation := operand comparator operand
//   operand     := number | [ number "*" ] run "." figure [ "(" argument ")" ]
//   run         := name | "*" | quoted            ("*": every run, the same run on both sides)
//   comparator  := "<" | "<=" | ">" | ">=" | "==" | "!="
//   argument    := number | name
//
// A name is a letter or "_" followed by letters, digits, "_" and "-"; a run whose name is not of
// that form is written in double quotes ("2-layers".horizon). Numbers are decimal with an optional
// sign and exponent, or "inf". Errors carry the 0-based column where the text stops making sense.

/// A parsed `--expect` expression.
struct Expectation: Equatable {
    var text: String
    var left: Operand
    var comparator: Comparator
    var right: Operand

    /// Every run named on either side (`*` excluded).
    var namedRuns: [String] {
        [left, right].compactMap { operand in
            if case .figure(let reference) = operand, case .named(let name) = reference.run { return name }
            return nil
        }
    }

    var usesEveryRun: Bool {
        [left, right].contains { operand in
            if case .figure(let reference) = operand, reference.run == .every { return true }
            return false
        }
    }
}

enum Operand: Equatable {
    case number(Double)
    case figure(FigureReference)
}

struct FigureReference: Equatable {
    enum Run: Equatable {
        case named(String)
        case every
    }
    var run: Run
    var figure: String
    var argument: FigureArgument?
    /// A factor the figure is multiplied by before comparing (`10 * rnn.gradientAtLag(8)`).
    var factor: Double = 1
    /// Column of the run name and of the figure name in the expression (for error messages).
    var runColumn: Int
    var figureColumn: Int

    /// "10 * lstm.gradientAtLag(8)" with `run` substituted for `*`.
    func expression(run name: String) -> String {
        (factor == 1 ? "" : "\(formatNumber(factor)) * ") + label(run: name)
    }

    /// "lstm.gradientAtLag(8)" with `run` substituted for `*`.
    func label(run name: String) -> String {
        "\(FigureReference.quotedIfNeeded(name)).\(figure)" + (argument.map { "(\($0))" } ?? "")
    }

    static func quotedIfNeeded(_ name: String) -> String {
        isPlainName(name) ? name : "\"\(name)\""
    }

    static func isPlainName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || isLetter(first) else { return false }
        return name.unicodeScalars.allSatisfy(isNameCharacter)
    }
}

enum FigureArgument: Equatable, CustomStringConvertible {
    case number(Double)
    case name(String)

    var description: String {
        switch self {
        case .number(let value): return formatNumber(value)
        case .name(let name): return name
        }
    }
}

enum Comparator: String, Equatable, CaseIterable {
    case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "==", notEqual = "!="

    /// Exact comparison: figures are measured with identical bits for the same seed, so `==`
    /// is meaningful for counts and flags (`diverged == 0`); use a bound for measured values.
    func holds(_ a: Double, _ b: Double) -> Bool {
        switch self {
        case .less: return a < b
        case .lessOrEqual: return a <= b
        case .greater: return a > b
        case .greaterOrEqual: return a >= b
        case .equal: return a == b
        case .notEqual: return a != b
        }
    }
}

/// Where and why an expression cannot be read.
struct ExpectationSyntaxError: Error, Equatable, CustomStringConvertible {
    var text: String
    var column: Int
    var message: String

    var description: String {
        // The expression, then a caret under the column.
        "--expect '\(text)': \(message) at column \(column + 1)\n  \(text)\n  "
            + String(repeating: " ", count: column) + "^"
    }
}

// MARK: - Tokenizer

struct Token: Equatable {
    enum Kind: Equatable {
        case name(String)
        case quoted(String)
        case number(Double)
        case star, dot, open, close
        case comparator(Comparator)
        case end
    }
    var kind: Kind
    var column: Int
}

private func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
private func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }
private func isNameCharacter(_ c: Unicode.Scalar) -> Bool { isLetter(c) || isDigit(c) || c == "_" || c == "-" }

/// Splits an expression into tokens; columns count Unicode scalars from 0.
func tokenize(_ text: String) throws -> [Token] {
    let s = Array(text.unicodeScalars)
    var tokens: [Token] = []
    var i = 0
    func fail(_ message: String, at column: Int) -> ExpectationSyntaxError {
        ExpectationSyntaxError(text: text, column: column, message: message)
    }
    while i < s.count {
        let c = s[i]
        let start = i
        if c == " " || c == "\t" {
            i += 1
        } else if isLetter(c) || c == "_" {
            while i < s.count, isNameCharacter(s[i]) { i += 1 }
            let word = String(String.UnicodeScalarView(s[start..<i]))
            // "inf" is a number; a run could not be called that without quotes.
            tokens.append(Token(kind: word == "inf" ? .number(.infinity) : .name(word), column: start))
        } else if isDigit(c) || (c == "." && i + 1 < s.count && isDigit(s[i + 1]))
                    || ((c == "-" || c == "+") && i + 1 < s.count
                        && (isDigit(s[i + 1]) || s[i + 1] == "." || s[i + 1] == "i")) {
            if c == "-" || c == "+" { i += 1 }
            if i + 2 < s.count, s[i] == "i", s[i + 1] == "n", s[i + 2] == "f" {
                i += 3
                tokens.append(Token(kind: .number(c == "-" ? -.infinity : .infinity), column: start))
                continue
            }
            var digits = 0
            while i < s.count, isDigit(s[i]) { i += 1; digits += 1 }
            if i < s.count, s[i] == "." {
                i += 1
                while i < s.count, isDigit(s[i]) { i += 1; digits += 1 }
            }
            guard digits > 0 else { throw fail("a number needs digits", at: start) }
            if i < s.count, s[i] == "e" || s[i] == "E" {
                let e = i
                i += 1
                if i < s.count, s[i] == "-" || s[i] == "+" { i += 1 }
                guard i < s.count, isDigit(s[i]) else { throw fail("an exponent needs digits", at: e) }
                while i < s.count, isDigit(s[i]) { i += 1 }
            }
            if i < s.count, isLetter(s[i]) || s[i] == "_" {
                throw fail("a number runs into a name (quote a run name that starts with a digit: \"2-layers\".horizon)",
                           at: i)
            }
            let literal = String(String.UnicodeScalarView(s[start..<i]))
            guard let value = Double(literal) else { throw fail("'\(literal)' is not a number", at: start) }
            tokens.append(Token(kind: .number(value), column: start))
        } else if c == "\"" {
            i += 1
            while i < s.count, s[i] != "\"" { i += 1 }
            guard i < s.count else { throw fail("this quote is not closed", at: start) }
            let name = String(String.UnicodeScalarView(s[(start + 1)..<i]))
            guard !name.isEmpty else { throw fail("an empty run name", at: start) }
            i += 1
            tokens.append(Token(kind: .quoted(name), column: start))
        } else if c == "<" || c == ">" || c == "=" || c == "!" {
            let twoCharacter = i + 1 < s.count && s[i + 1] == "="
            let symbol = String(String.UnicodeScalarView(s[i..<(i + (twoCharacter ? 2 : 1))]))
            guard let comparator = Comparator(rawValue: symbol) else {
                throw fail("'\(symbol)' is not a comparison (use <, <=, >, >=, ==, !=)", at: start)
            }
            i += symbol.unicodeScalars.count
            tokens.append(Token(kind: .comparator(comparator), column: start))
        } else {
            let kind: Token.Kind
            switch c {
            case "*": kind = .star
            case ".": kind = .dot
            case "(": kind = .open
            case ")": kind = .close
            default: throw fail("unexpected character '\(c)'", at: start)
            }
            i += 1
            tokens.append(Token(kind: kind, column: start))
        }
    }
    tokens.append(Token(kind: .end, column: s.count))
    return tokens
}

// MARK: - Parser

/// Parses one `--expect` expression. Throws `ExpectationSyntaxError` with the column where it fails.
func parseExpectation(_ text: String) throws -> Expectation {
    let tokens = try tokenize(text)
    var position = 0
    func fail(_ message: String, _ token: Token) -> ExpectationSyntaxError {
        ExpectationSyntaxError(text: text, column: token.column, message: message)
    }
    func describe(_ token: Token) -> String {
        switch token.kind {
        case .end: return "the end of the expression"
        case .name(let name): return "'\(name)'"
        case .quoted(let name): return "\"\(name)\""
        case .number(let value): return "the number \(formatNumber(value))"
        case .star: return "'*'"
        case .dot: return "'.'"
        case .open: return "'('"
        case .close: return "')'"
        case .comparator(let comparator): return "'\(comparator.rawValue)'"
        }
    }

    func operand() throws -> Operand {
        var token = tokens[position]
        var factor = 1.0
        // "10 * rnn.x" scales a figure; "10 *" followed by "." is not a product.
        if case .number(let value) = token.kind, tokens[position + 1].kind == .star,
           position + 2 < tokens.count, tokens[position + 2].kind != .dot {
            guard value.isFinite else { throw fail("a factor must be a finite number", token) }
            factor = value
            position += 2
            token = tokens[position]
            if case .number = token.kind { throw fail("expected a run's figure after '*', found \(describe(token))", token) }
        }
        let run: FigureReference.Run
        switch token.kind {
        case .number(let value):
            position += 1
            return .number(value)
        case .name(let name), .quoted(let name): run = .named(name)
        case .star: run = .every
        default: throw fail("expected a run's figure (lstm.horizonFirst) or a number, found \(describe(token))", token)
        }
        position += 1
        if case .name(let name) = token.kind, tokens[position].kind != .dot,
           ["nan", "inf", "infinity"].contains(name.lowercased()) {
            throw fail("'\(name)' is not a number a figure can be compared with; write a finite number, e.g. 1e30", token)
        }
        guard tokens[position].kind == .dot else {
            throw fail("expected '.' and a figure after the run name, found \(describe(tokens[position]))",
                       tokens[position])
        }
        position += 1
        let figureToken = tokens[position]
        guard case .name(let figure) = figureToken.kind else {
            throw fail("expected a figure name after '.', found \(describe(figureToken))", figureToken)
        }
        position += 1
        var argument: FigureArgument?
        if tokens[position].kind == .open {
            position += 1
            switch tokens[position].kind {
            case .number(let value): argument = .number(value)
            case .name(let name): argument = .name(name)
            default: throw fail("expected an argument (a number or a name), found \(describe(tokens[position]))",
                                tokens[position])
            }
            position += 1
            guard tokens[position].kind == .close else {
                throw fail("expected ')', found \(describe(tokens[position]))", tokens[position])
            }
            position += 1
        }
        return .figure(FigureReference(run: run, figure: figure, argument: argument, factor: factor,
                                       runColumn: token.column, figureColumn: figureToken.column))
    }

    guard tokens.count > 1 else {
        throw ExpectationSyntaxError(text: text, column: 0, message: "the expression is empty")
    }
    let left = try operand()
    guard case .comparator(let comparator) = tokens[position].kind else {
        throw fail("expected a comparison (<, <=, >, >=, ==, !=), found \(describe(tokens[position]))", tokens[position])
    }
    position += 1
    let right = try operand()
    guard tokens[position].kind == .end else {
        throw fail("expected the end of the expression, found \(describe(tokens[position])) "
                   + "(give each comparison its own --expect)", tokens[position])
    }
    if case .number = left, case .number = right {
        throw ExpectationSyntaxError(text: text, column: 0, message: "compares two numbers; name a run's figure on one side")
    }
    return Expectation(text: text, left: left, comparator: comparator, right: right)
}

/// Shortest form that reads back as the same number: 8, 0.5, 1e-06, inf.
func formatNumber(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
}
