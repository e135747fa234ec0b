import CJSONC
import Foundation

/// Reads the Hugging Face tokenizer.json form of a SentencePiece BPE model, as transformers'
/// LlamaConverter writes it: `model` {type BPE, vocab, merges, byte_fallback, unk_token}, `added_tokens`
/// (the special pieces) and a normalizer / pre-tokenizer that say whether a "▁" is prepended.
///
/// tokenizer.json keeps no scores. The converter orders `merges` by the merged piece's score, best first,
/// so a piece's rank among merge results gives back the order of scores, and that order is all BPE uses
/// (SPEC 6: both files must give the same ids; the tests check that on the whole data set).
/// Parsed with json-c because the file is 1.8 MB and Foundation's parser is slow on it.
extension SentencePieceModel {
    public init(huggingFaceJSONFile path: String) throws(TokenizerError) {
        try self.init(huggingFaceJSON: try Self.contents(ofRegularFile: path), path: path)
    }

    public init(huggingFaceJSON bytes: [UInt8], path: String) throws(TokenizerError) {
        func fail(_ why: String) -> TokenizerError { TokenizerError(path: path, .invalidTokenizerJSON(why)) }
        guard let tokener = json_tokener_new() else { throw fail("json-c could not allocate a parser") }
        defer { json_tokener_free(tokener) }
        let root: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { json_tokener_parse_ex(tokener, $0.baseAddress, Int32(buffer.count)) }
        }
        guard let root else {
            throw fail("invalid JSON (\(String(cString: json_tokener_error_desc(json_tokener_get_error(tokener)))))")
        }
        defer { json_object_put(root) }
        guard json_object_is_type(root, json_type_object) != 0 else { throw fail("top level is not a JSON object") }
        guard let model = JSONC.member(root, "model"), json_object_is_type(model, json_type_object) != 0 else {
            throw fail("no \"model\" object")
        }
        let type = JSONC.string(JSONC.member(model, "type"))
        guard type == "BPE" else { throw TokenizerError(path: path, .unsupportedModel("model type \(type ?? "missing") (only BPE is implemented)")) }
        guard let vocab = JSONC.member(model, "vocab"), json_object_is_type(vocab, json_type_object) != 0 else {
            throw fail("model has no \"vocab\" object")
        }

        // vocab: piece → id, ids must be 0..<n without gaps.
        var texts = [String?](repeating: nil, count: Int(json_object_object_length(vocab)))
        // Keyed by bytes, not String: String equality is canonical equivalence, and the Llama vocabulary
        // holds distinct pieces that are canonically equal.
        var idsByText: [[UInt8]: Int] = [:]
        var problem: String?
        JSONC.forEachMember(vocab) { key, value in
            guard problem == nil else { return }
            guard json_object_is_type(value, json_type_int) != 0 else { problem = "vocab entry \"\(key)\" is not an integer id"; return }
            let id = Int(json_object_get_int64(value))
            guard texts.indices.contains(id), texts[id] == nil else { problem = "vocab ids are not 0..<\(texts.count) without repeats (at \"\(key)\": \(id))"; return }
            texts[id] = key
            idsByText[Array(key.utf8)] = id
        }
        if let problem { throw fail(problem) }
        guard !texts.isEmpty else { throw fail("empty vocab") }

        // merges: ["a b", ...] (older files) or [["a", "b"], ...]; rank → score of the merged piece.
        var scores = [Float](repeating: 0, count: texts.count)
        var ranked = [Bool](repeating: false, count: texts.count)
        if let merges = JSONC.member(model, "merges") {
            guard json_object_is_type(merges, json_type_array) != 0 else { throw fail("\"merges\" is not an array") }
            let count = json_object_array_length(merges)
            for rank in 0..<count {
                let entry = json_object_array_get_idx(merges, rank)
                var pair: (String, String)?
                if let text = JSONC.string(entry) {
                    // Split at the first space byte: splitting the String would work on grapheme clusters,
                    // and " " followed by a combining mark is one cluster.
                    let utf8 = Array(text.utf8)
                    if let space = utf8.firstIndex(of: 0x20) {
                        pair = (String(decoding: utf8[..<space], as: UTF8.self), String(decoding: utf8[(space + 1)...], as: UTF8.self))
                    }
                } else if json_object_is_type(entry, json_type_array) != 0, json_object_array_length(entry) == 2,
                          let a = JSONC.string(json_object_array_get_idx(entry, 0)),
                          let b = JSONC.string(json_object_array_get_idx(entry, 1)) {
                    pair = (a, b)
                }
                guard let (a, b) = pair else { throw fail("merge \(rank) is neither \"a b\" nor [\"a\", \"b\"]") }
                guard let id = idsByText[Array(a.utf8) + Array(b.utf8)] else { throw fail("merge \(rank) (\"\(a)\", \"\(b)\") makes a piece not in the vocab") }
                if !ranked[id] {
                    ranked[id] = true
                    scores[id] = -Float(rank)
                }
            }
        }

        let byteFallback = JSONC.bool(JSONC.member(model, "byte_fallback")) ?? false
        let unknownText = JSONC.string(JSONC.member(model, "unk_token"))
        // added_tokens: special ones are control pieces (the unknown token excepted), others user-defined.
        var types = [PieceType](repeating: .normal, count: texts.count)
        if let added = JSONC.member(root, "added_tokens"), json_object_is_type(added, json_type_array) != 0 {
            for index in 0..<json_object_array_length(added) {
                let token = json_object_array_get_idx(added, index)
                guard let content = JSONC.string(JSONC.member(token, "content")),
                      let id = idsByText[Array(content.utf8)] else { throw fail("added token \(index) is not in the vocab") }
                let special = JSONC.bool(JSONC.member(token, "special")) ?? false
                types[id] = special ? .control : .userDefined
            }
        }
        if byteFallback {
            for byte in 0...255 {
                if let id = idsByText[Array(Self.bytePieceText(UInt8(byte)).utf8)] { types[id] = .byte }
            }
        }
        guard let unknownText, let unknownIndex = idsByText[Array(unknownText.utf8)] else {
            throw fail("model.unk_token is missing or not in the vocab")
        }
        types[unknownIndex] = .unknown

        var pieces: [Piece] = []
        pieces.reserveCapacity(texts.count)
        for id in texts.indices {
            // Pieces no merge makes (characters, bytes, specials) never compete on score; 0 is the
            // reference's value for them.
            pieces.append(Piece(texts[id]!, score: ranked[id] ? scores[id] : 0, type: types[id]))
        }
        self.init(pieces: pieces)
        modelType = .bpe
        self.byteFallback = byteFallback
        unknownID = Int32(unknownIndex)
        beginOfSequenceID = idsByText[Array("<s>".utf8)].map(Int32.init) ?? -1
        endOfSequenceID = idsByText[Array("</s>".utf8)].map(Int32.init) ?? -1
        normalizerName = "identity"
        // Llama's identity normalizer never removes spaces; the dummy prefix and escaping come from either
        // the legacy normalizer (Prepend "▁", Replace " " → "▁") or a Metaspace pre-tokenizer.
        removeExtraWhitespaces = false
        let prefix = Self.whitespaceHandling(JSONC.member(root, "normalizer"), JSONC.member(root, "pre_tokenizer"))
        addDummyPrefix = prefix.prepend
        escapeWhitespaces = prefix.escape
        try validate(path: path)
    }

    private static func whitespaceHandling(_ normalizer: OpaquePointer?, _ preTokenizer: OpaquePointer?) -> (prepend: Bool, escape: Bool) {
        var prepend = false, escape = false
        func visit(_ node: OpaquePointer?) {
            guard let node, json_object_is_type(node, json_type_object) != 0 else { return }
            switch JSONC.string(JSONC.member(node, "type")) {
            case "Sequence":
                for key in ["normalizers", "pretokenizers"] {
                    if let list = JSONC.member(node, key), json_object_is_type(list, json_type_array) != 0 {
                        for i in 0..<json_object_array_length(list) { visit(json_object_array_get_idx(list, i)) }
                    }
                }
            case "Prepend":
                if JSONC.string(JSONC.member(node, "prepend")) == "\u{2581}" { prepend = true }
            case "Replace":
                if JSONC.string(JSONC.member(JSONC.member(node, "pattern"), "String")) == " ",
                   JSONC.string(JSONC.member(node, "content")) == "\u{2581}" { escape = true }
            case "Metaspace":
                escape = true
                let scheme = JSONC.string(JSONC.member(node, "prepend_scheme"))
                    ?? ((JSONC.bool(JSONC.member(node, "add_prefix_space")) ?? true) ? "always" : "never")
                if scheme != "never" { prepend = true }
            default: break
            }
        }
        visit(normalizer)
        visit(preTokenizer)
        return (prepend, escape)
    }
}

/// Small typed accessors over json-c values.
enum JSONC {
    static func member(_ object: OpaquePointer?, _ key: String) -> OpaquePointer? {
        guard let object, json_object_is_type(object, json_type_object) != 0 else { return nil }
        var value: OpaquePointer?
        return json_object_object_get_ex(object, key, &value) != 0 ? value : nil
    }

    /// The string value (nil unless it is a JSON string holding valid UTF-8).
    static func string(_ value: OpaquePointer?) -> String? {
        guard let value, json_object_is_type(value, json_type_string) != 0, let pointer = json_object_get_string(value) else { return nil }
        let length = Int(json_object_get_string_len(value))
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(validating: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    static func bool(_ value: OpaquePointer?) -> Bool? {
        guard let value, json_object_is_type(value, json_type_boolean) != 0 else { return nil }
        return json_object_get_boolean(value) != 0
    }

    static func forEachMember(_ object: OpaquePointer, _ body: (String, OpaquePointer?) -> Void) {
        var iterator = json_object_iter_begin(object)
        var end = json_object_iter_end(object)
        while json_object_iter_equal(&iterator, &end) == 0 {
            if let name = json_object_iter_peek_name(&iterator) {
                body(String(cString: name), json_object_iter_peek_value(&iterator))
            }
            json_object_iter_next(&iterator)
        }
    }
}
