# Bullet Dashboard build entry point for Windows (mirrors build.sh; best effort, not tested in CI: training needs
# libtorch, which the project only references for Linux, so on Windows the runtime, format and dashboard work but
# training does not).
#   ./build.ps1          build the native library, the Python packages and the browser UI
#   ./build.ps1 test     build, then run NUnit, pytest and Vitest
#   ./build.ps1 run      build, then start the dashboard on the bundled children's stories
param([string]$Command = "build")
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot
$Root = Get-Location
$Venv = Join-Path $Root ".venv"
$NativeOut = Join-Path $Root "build-out/native"
$PyPkg = Join-Path $Root "python/bullet_native"

function Build-Native {
    if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) { throw "the .NET SDK 10 is required (https://dot.net)" }
    dotnet publish dotnet/BulletNative/BulletNative.csproj -c Release -r win-x64 -o $NativeOut --nologo -v quiet
    # The AVX-512 kernel, compiled for x86-64-v4; the library loads it from beside itself when the processor has AVX-512.
    dotnet publish dotnet/BulletKernels512/BulletKernels512.csproj -c Release -r win-x64 -o $NativeOut --nologo -v quiet
    Copy-Item (Join-Path $NativeOut "libbullet_native.dll") (Join-Path $PyPkg "libbullet_native.dll") -Force
    Copy-Item (Join-Path $NativeOut "libbullet_kernels_avx512.dll") (Join-Path $PyPkg "libbullet_kernels_avx512.dll") -Force
}

function Build-Python {
    if (-not (Test-Path (Join-Path $Venv "Scripts/python.exe"))) { python -m venv $Venv }
    & (Join-Path $Venv "Scripts/pip.exe") install --quiet numpy pytest fastapi uvicorn python-multipart httpx
    & (Join-Path $Venv "Scripts/pip.exe") install --quiet --no-deps -e .
}

function Build-Frontend {
    if (-not (Get-Command npm -ErrorAction SilentlyContinue)) { throw "Node.js 20 (or newer) with npm is required to build the frontend" }
    Push-Location frontend
    try {
        npm ci --no-audit --no-fund --loglevel=error
        if ($LASTEXITCODE -ne 0) { throw "npm ci failed" }
        npm run --silent build
        if ($LASTEXITCODE -ne 0) { throw "the frontend build failed" }
    } finally { Pop-Location }
}

function Build-All { Build-Native; Build-Python; Build-Frontend }

switch ($Command) {
    "build" { Build-All }
    "test" {
        Build-All
        dotnet test dotnet/BulletNative.Tests/BulletNative.Tests.csproj --nologo -v quiet
        if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
        & (Join-Path $Venv "Scripts/python.exe") -m pytest python/tests -q
        if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
        Push-Location frontend
        npm test --silent
        $code = $LASTEXITCODE
        Pop-Location
        exit $code
    }
    "run" { Build-All; & (Join-Path $Venv "Scripts/python.exe") -m bullet_dashboard --open-dataset children_stories }
    default { Write-Error "usage: ./build.ps1 [build|test|run]"; exit 2 }
}
