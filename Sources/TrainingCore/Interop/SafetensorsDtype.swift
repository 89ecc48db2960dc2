// The element types the reader understands and how each becomes a Float32.

/// Element types this reader accepts. The safetensors format has more (integers, bool, fp8, ...);
/// a PyTorch language model saved in floating point uses only these.
enum SafetensorsDtype: String, CaseIterable, Sendable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case f64 = "F64"

    var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .f64: return 8
        }
    }

    /// Decodes `count` little-endian elements starting at `bytes[start]` into Float32.
    /// The caller has checked that `start + count * byteSize <= bytes.count`; nothing here
    /// re-checks (the module is compiled with -Ounchecked, so that check is what keeps us in bounds).
    func decode(_ bytes: [UInt8], start: Int, count: Int) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        switch self {
        case .f32:
            for i in 0..<count {
                let p = start + 4 * i
                let bits = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8
                    | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
        case .f16:
            for i in 0..<count {
                let p = start + 2 * i
                values[i] = Self.floatFromHalfBits(UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8)
            }
        case .bf16:
            for i in 0..<count {
                let p = start + 2 * i
                values[i] = Self.floatFromBFloat16Bits(UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8)
            }
        case .f64:
            for i in 0..<count {
                let p = start + 8 * i
                var bits: UInt64 = 0
                for b in 0..<8 { bits |= UInt64(bytes[p + b]) << (8 * b) }
                // Rounds to nearest; magnitudes above Float.greatestFiniteMagnitude become infinity.
                values[i] = Float(Double(bitPattern: bits))
            }
        }
        return values
    }
}

extension SafetensorsDtype {
    /// IEEE binary16 bits to Float32, exactly (every half value is a float value).
    ///
    /// Bits are s (1), e (5, bias 15), m (10):
    /// - e = 0:      (-1)^s * 2^-14 * m/1024   (zero and subnormals)
    /// - 0 < e < 31: (-1)^s * 2^(e-15) * (1 + m/1024)
    /// - e = 31:     infinity when m = 0, else NaN with m kept in the top of the float mantissa.
    /// Written with integer operations only, so it does not depend on `Float16` being available.
    @inline(__always)
    static func floatFromHalfBits(_ half: UInt16) -> Float {
        let sign = UInt32(half & 0x8000) << 16
        let exponent = UInt32(half >> 10) & 0x1f
        let mantissa = UInt32(half & 0x03ff)
        if exponent == 0x1f {
            return Float(bitPattern: sign | 0x7f80_0000 | mantissa << 13)
        }
        if exponent != 0 {
            // Rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
        // Zero or subnormal: m * 2^-24 is exact in Float (m < 2^10).
        let magnitude = Float(mantissa) * 0x1p-24
        return Float(bitPattern: sign | magnitude.bitPattern)
    }

    /// bfloat16 bits to Float32, exactly: bfloat16 is the upper half of a float32.
    @inline(__always)
    static func floatFromBFloat16Bits(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
