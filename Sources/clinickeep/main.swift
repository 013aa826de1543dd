import ClinicServer
import Foundation

exit(await ClinicKeepMain.run())
