import CHDF5
import CJSONC
import COpenBLAS
import CPangoCairo
import Testing

/// Each system-library shim compiles, links and answers a call into its library.
@Suite struct SystemLibraryTests {
    @Test func hdf5ReportsItsVersion() {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        #expect(H5get_libversion(&major, &minor, &release) >= 0)
        #expect(major == 1 && minor >= 10)
    }

    @Test func openBLASMultipliesMatrices() {
        // [1 2; 3 4] x [5 6; 7 8] = [19 22; 43 50]
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
        #expect(c == [19, 22, 43, 50])
        #expect(openblas_get_num_threads() >= 1)
    }

    @Test func pangoAndCairoAreLinked() {
        #expect(pango_version() >= 1_44_00)
        #expect(cairo_version() >= 1_16_00)
        #expect(FcGetVersion() >= 2_13_00)
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 32, 16)
        defer { cairo_surface_destroy(surface) }
        #expect(cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS)
    }

    @Test func jsonCParsesStrictJSON() {
        let object = json_tokener_parse("{\"a\": [1, 2, 3]}")
        defer { json_object_put(object) }
        #expect(object != nil)
        var array: OpaquePointer?
        #expect(json_object_object_get_ex(object, "a", &array) != 0)
        #expect(json_object_array_length(array) == 3)
    }
}
