import Foundation
import Testing
@testable import Support

/// results.json's `cpu`: the model and the instruction-set extensions that choose kernels, from a
/// /proc/cpuinfo text (an x86 excerpt and an Arm one written here, in the kernel's layout).
@Suite struct HostCPUTests {
    @Test func x86NamesTheModelAndTheVectorExtensions() throws {
        let text = """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        model name\t: AMD EPYC 9B45 128-Core Processor
        flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16 sha_ni

        processor\t: 1
        model name\t: another name never read
        flags\t\t: fpu
        """
        let cpu = try #require(HostCPU.parse(text))
        #expect(cpu.model == "AMD EPYC 9B45 128-Core Processor")
        #expect(cpu.flags == ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_bf16"])
    }

    @Test func armNamesItsFeaturesAndTheBoardWhenThereIsNoModelName() throws {
        let text = """
        processor\t: 0
        BogoMIPS\t: 50.00
        Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics sve sve2
        CPU implementer\t: 0x41

        Hardware\t: Example Board
        """
        let cpu = try #require(HostCPU.parse(text))
        #expect(cpu.model == "Example Board")
        #expect(cpu.flags == ["asimd", "sve", "sve2"])
        #expect(HostCPU.parse("") == nil)
    }
}
